package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// frontDeps are the only packages outside the standard library the front may link: its
// point is to start as fast as a program that links nothing (see the package comment).
var frontDeps = []string{
	"github.com/awskeep/awskeep/cmd/awskeep",
	"github.com/awskeep/awskeep/core/cache",
	"github.com/awskeep/awskeep/core/credproc",
	"github.com/awskeep/awskeep/core/creds",
	"github.com/awskeep/awskeep/core/fastpath",
	"github.com/awskeep/awskeep/core/harden",
	"github.com/awskeep/awskeep/core/internal/flock",
	"github.com/awskeep/awskeep/plugins/trust",
	"golang.org/x/sync/singleflight",
	"golang.org/x/sys/unix",
}

func TestFrontLinksOnlyWhatAHitNeeds(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if !slices.Contains(frontDeps, pkg) {
			t.Errorf("the front links %s; keep it out (a cache hit must not pay for its initialisation) or add it to frontDeps with a reason", pkg)
		}
	}
}
