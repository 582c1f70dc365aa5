// Package buildtest builds awskeep's programs for end-to-end tests: the host (the awskeep
// front and awskeep-full), the keyring helper and plugins, into a directory the test gives,
// the way the Makefile builds them: in the checkout's workspace (go.work) and pure Go.
//
// The front, awskeep, is on linux the C program cmd/cfront/front.c, static against glibc,
// as make build and make release build it; elsewhere (darwin) the Go package cmd/awskeep.
// Build gives a test the front it would install: asked for the Go front's package
// (FrontPackage, or a path naming the checkout's cmd/awskeep), it builds the C front as
// awskeep instead on linux (BuildCFront). A test that needs the Go front itself asks for
// it with Options.GoFront; AWSKEEP_TEST_FRONT=go in the environment does so for every
// build (e.g. to run the e2e tests against the Go front).
//
// The end-to-end tests of cmd/e2e, plugin-tink/e2e and plugin-vault/vaulttest use it. The
// last is a module of its own that runs with GOWORK=off (so that no workspace build
// resolves Vault's modules) and cannot import cmd/e2e, which is why this package lives in
// core, outside internal, and finds go.work itself rather than rely on the caller's
// environment.
package buildtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

const (
	// FrontPackage is the Go front's package: the awskeep program on every OS but linux.
	FrontPackage = "github.com/awskeep/awskeep/cmd/awskeep"
	// CFrontSource is the C front, the awskeep program on linux, relative to the checkout
	// (the directory of go.work).
	CFrontSource = "cmd/cfront/front.c"
	// FrontEnvVar set to "go" makes every Build build the Go front, as Options.GoFront.
	FrontEnvVar = "AWSKEEP_TEST_FRONT"
)

// Options modify Build.
type Options struct {
	// Cgo leaves CGO_ENABLED as the environment has it, for programs that link C (the
	// PKCS#11 plugin). The default builds pure Go (CGO_ENABLED=0): the host never links C.
	Cgo bool
	// Flags are further go build flags, e.g. "-trimpath" or "-tags", "awskeep_testhooks".
	// The C front is built without them.
	Flags []string
	// GoFront builds the Go front (FrontPackage) when asked for it, on linux too, where
	// Build otherwise builds the C front in its place.
	GoFront bool
}

// Build builds the main packages pkgs (import paths, or paths relative to dir) in the
// module directory dir into outDir, in one go build, and makes each program mode 0755:
// the host refuses a plugin that others may write to, whatever the test's umask. It
// builds in the workspace of the go.work found in dir or above it.
func Build(dir, outDir string, pkgs []string, optFns ...func(*Options)) error {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	work, err := Workspace(dir)
	if err != nil {
		return err
	}
	cFront := false
	if runtime.GOOS == "linux" && !opts.GoFront && os.Getenv(FrontEnvVar) != "go" {
		var goPkgs []string
		for _, p := range pkgs {
			if isFront(dir, filepath.Dir(work), p) {
				cFront = true
			} else {
				goPkgs = append(goPkgs, p)
			}
		}
		pkgs = goPkgs
	}
	if len(pkgs) > 0 {
		if err := goBuild(dir, work, outDir, pkgs, opts); err != nil {
			return err
		}
	}
	if cFront {
		return BuildCFront(dir, outDir)
	}
	return nil
}

// isFront says whether pkg, an import path or a path relative to dir, is the Go front of
// the checkout at root.
func isFront(dir, root, pkg string) bool {
	if pkg == FrontPackage {
		return true
	}
	if !strings.HasPrefix(pkg, ".") && !filepath.IsAbs(pkg) {
		return false
	}
	if !filepath.IsAbs(pkg) {
		pkg = filepath.Join(dir, pkg)
	}
	abs, err := filepath.Abs(pkg)
	return err == nil && abs == filepath.Join(root, "cmd", "awskeep")
}

func goBuild(dir, work, outDir string, pkgs []string, opts Options) error {
	args := append([]string{"build"}, slices.Clone(opts.Flags)...)
	args = append(append(args, "-o", outDir+string(filepath.Separator)), pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK="+work)
	if !opts.Cgo {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v in %s: %v\n%s", pkgs, dir, err, out)
	}
	for _, p := range pkgs {
		if err := os.Chmod(filepath.Join(outDir, filepath.Base(p)), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// BuildCFront builds the C front of the checkout around dir (CFrontSource) as
// outDir/awskeep, mode 0755, as make build does on linux:
//
//	gcc -std=c11 -O2 -Wall -Wextra -Werror -static-pie -o outDir/awskeep cmd/cfront/front.c
//
// It needs gcc and
// glibc's static library, libc.a (Debian: apt-get install gcc libc6-dev).
func BuildCFront(dir, outDir string) error {
	work, err := Workspace(dir)
	if err != nil {
		return err
	}
	root := filepath.Dir(work)
	return buildC(root, filepath.Join(root, filepath.FromSlash(CFrontSource)), filepath.Join(outDir, "awskeep"))
}

// buildC compiles the C program src into out, static, run in dir.
func buildC(dir, src, out string) error {
	const install = "the awskeep front on linux is C, linked statically: apt-get install gcc libc6-dev"
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return fmt.Errorf("buildtest: no gcc (%v): %s", err, install)
	}
	// gcc prints the name back, not a path, for a file it does not find.
	libc, err := exec.Command(gcc, "-print-file-name=libc.a").Output()
	if p := strings.TrimSpace(string(libc)); err != nil || !filepath.IsAbs(p) {
		return fmt.Errorf("buildtest: gcc finds no static libc (libc.a): %s", install)
	} else if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("buildtest: static libc: %v: %s", err, install)
	}
	args := []string{"-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-static-pie"}
	args = append(args, "-o", out, src)
	cmd := exec.Command(gcc, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("buildtest: gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return os.Chmod(out, 0o755)
}

// Workspace returns the absolute path of the go.work file in dir or the nearest directory
// above it: the awskeep checkout's.
func Workspace(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		f := filepath.Join(d, "go.work")
		if _, err := os.Stat(f); err == nil {
			return f, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("buildtest: no go.work in %s or above it: run the test inside the awskeep checkout", dir)
		}
		d = parent
	}
}
