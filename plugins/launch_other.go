//go:build !linux

package plugins

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// sysProcAttr has no parent-death signal here; Serve's parent check ends orphans instead.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup: the plugin has no process group of its own here.
func killGroup(int) {}

// execPath: only Linux names an open file so that a child can execute it (/proc/self/fd),
// and a plugin is never executed by path instead.
func execPath(*os.File) (string, error) {
	return "", fmt.Errorf("executing a plugin from the file that was checked needs Linux's /proc/self/fd; %s has none: %w",
		runtime.GOOS, ErrPluginUnavailable)
}
