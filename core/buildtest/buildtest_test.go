package buildtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestBuildC builds a static C program and runs it.
func TestBuildC(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	out := filepath.Join(t.TempDir(), "awskeep")
	src, _ := filepath.Abs(filepath.Join("testdata", "cfront", "front.c"))
	if err := buildtest.BuildC(t.TempDir(), src, out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("%s: %v, %v; want mode 0755", out, fi, err)
	}
	got, err := exec.Command(out).Output()
	want := "hello from buildtest's C"
	if err != nil || strings.TrimSpace(string(got)) != want {
		t.Fatalf("%s: %q, %v; want %q", out, got, err, want)
	}
	if f, err := exec.Command("file", "-b", out).Output(); err == nil && !staticELF(string(f)) {
		t.Errorf("file says %s, want a static (static-pie) executable", f)
	}

	err = buildtest.BuildC(t.TempDir(), filepath.Join(t.TempDir(), "none.c"), out)
	if err == nil || !strings.Contains(err.Error(), "none.c") {
		t.Fatalf("building a missing file: err = %v", err)
	}
}

// TestBuildCFront builds the host as the e2e tests do: on linux the checkout's C front is
// awskeep, static, and its --version says what awskeep-full's says, word for word.
func TestBuildCFront(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the C front is linux's")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(buildtest.CFrontSource))); err != nil {
		t.Skipf("no C front yet: %v", err)
	}
	t.Setenv(buildtest.FrontEnvVar, "")
	out := t.TempDir()
	if err := buildtest.Build(".", out, []string{buildtest.FrontPackage, "github.com/awskeep/awskeep/cmd/awskeep-full"}); err != nil {
		t.Fatal(err)
	}
	front := filepath.Join(out, "awskeep")
	if f, err := exec.Command("file", "-b", front).Output(); err != nil || !staticELF(string(f)) {
		t.Errorf("file %s: %s, %v; want a static (static-pie) executable", front, f, err)
	}
	if f, _ := exec.Command("go", "version", front).CombinedOutput(); !strings.Contains(string(f), "not a Go executable") {
		t.Errorf("go version %s: %s; want a C program, not Go", front, f)
	}
	got, err := exec.Command(front, "--version").Output()
	want, err2 := exec.Command(filepath.Join(out, "awskeep-full"), "--version").Output()
	if err != nil || err2 != nil || string(got) != string(want) {
		t.Fatalf("awskeep --version: %q, %v; awskeep-full --version: %q, %v", got, err, want, err2)
	}
	t.Logf("awskeep --version: %s", got)

	goOut := t.TempDir()
	if err := buildtest.Build(".", goOut, []string{buildtest.FrontPackage}, func(o *buildtest.Options) { o.GoFront = true }); err != nil {
		t.Fatal(err)
	}
	if f, err := exec.Command("go", "version", filepath.Join(goOut, "awskeep")).CombinedOutput(); err != nil || strings.Contains(string(f), "not a Go executable") {
		t.Errorf("with GoFront, go version awskeep: %s, %v; want the Go front", f, err)
	}
}

func TestIsFront(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	cmd := filepath.Join(root, "cmd")
	for _, c := range []struct {
		dir, pkg string
		want     bool
	}{
		{".", buildtest.FrontPackage, true},
		{cmd, "./awskeep", true},
		{filepath.Join(root, "plugin-tink", "e2e"), "../../cmd/awskeep", true},
		{".", filepath.Join(cmd, "awskeep"), true},
		{cmd, "./awskeep-full", false},
		{".", "github.com/awskeep/awskeep/cmd/awskeep-full", false},
		{root, "./awskeep", false},
	} {
		if got := buildtest.IsFront(c.dir, root, c.pkg); got != c.want {
			t.Errorf("isFront(%s, %s) = %v, want %v", c.dir, c.pkg, got, c.want)
		}
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

// staticELF reports whether file(1)'s description is of a static executable: "statically
// linked", or "static-pie linked" for the position-independent one the front is.
func staticELF(desc string) bool {
	return strings.Contains(desc, "statically linked") || strings.Contains(desc, "static-pie linked")
}
