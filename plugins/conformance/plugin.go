package conformance

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// BuildPlugin builds the plugin main package pkg (an import path, e.g.
// "github.com/you/awskeep-plugin-foo/cmd/awskeep-plugin-foo") into a temporary directory
// and returns the binary's path. The binary is named after the package's last element.
// It builds from the test's working directory, so pkg resolves through the test's module.
func BuildPlugin(t testing.TB, pkg string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("conformance: the go command is needed to build %s: %v", pkg, err)
	}
	out := filepath.Join(t.TempDir(), path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("conformance: go build %s: %v", pkg, err)
	}
	return out
}

// LaunchPlugin starts the plugin binary as a real subprocess over gRPC and returns it as a
// Backend. The process is ended when the test ends. env is added to the plugin's environment.
func LaunchPlugin(t testing.TB, binary string, env ...string) plugins.Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugins.Launch(ctx, binary, func(o *plugins.LaunchOptions) { o.Env = env })
	if err != nil {
		t.Fatalf("conformance: launch %s: %v", binary, err)
	}
	t.Cleanup(p.Close)
	// The host finds a plugin by the URI scheme: a binary named otherwise passes every
	// check here and is still never started.
	info, err := p.Info(ctx)
	if err != nil {
		t.Fatalf("conformance: Info from %s: %v", binary, err)
	}
	name, ok := strings.CutPrefix(filepath.Base(binary), "awskeep-plugin-")
	if !ok || !slices.Contains(info.Schemes, name) {
		t.Fatalf("conformance: the binary is named %s, but the host looks for awskeep-plugin-SCHEME with SCHEME one of %v: rename the main package's directory",
			filepath.Base(binary), info.Schemes)
	}
	return p
}
