// Package buildtest builds awskeep's programs for end-to-end tests: the host (the awskeep
// front and awskeep-full), the keyring helper and plugins, into a directory the test gives,
// the way the Makefile builds them: in the checkout's workspace (go.work) and pure Go.
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
)

// Options modify Build.
type Options struct {
	// Cgo leaves CGO_ENABLED as the environment has it, for programs that link C (the
	// PKCS#11 plugin). The default builds pure Go (CGO_ENABLED=0): the host never links C.
	Cgo bool
	// Flags are further go build flags, e.g. "-trimpath" or "-tags", "awskeep_testhooks".
	Flags []string
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
	args := append([]string{"build"}, opts.Flags...)
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
