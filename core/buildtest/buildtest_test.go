package buildtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/awskeep/awskeep/core/buildtest"
)

// TestBuild builds a program under a umask that leaves it group-writable and runs it: Build
// makes it 0755 all the same.
func TestBuild(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	out := t.TempDir()
	if err := buildtest.Build(".", out, []string{"./testdata/hello"}, func(o *buildtest.Options) { o.Flags = []string{"-trimpath"} }); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(out, "hello")
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	got, err := exec.Command(bin).Output()
	if err != nil || strings.TrimSpace(string(got)) != "hello from buildtest" {
		t.Fatalf("%s: %q, %v", bin, got, err)
	}
}

// TestBuildFails returns go build's output for a package that does not exist.
func TestBuildFails(t *testing.T) {
	err := buildtest.Build(".", t.TempDir(), []string{"./testdata/nothing"})
	if err == nil || !strings.Contains(err.Error(), "testdata/nothing") {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkspace(t *testing.T) {
	got, err := buildtest.Workspace(".")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if want := filepath.Join(root, "go.work"); got != want {
		t.Errorf("Workspace = %s, want %s", got, want)
	}
	if _, err := buildtest.Workspace(t.TempDir()); err == nil {
		t.Error("a directory outside the checkout has a workspace")
	}
}
