package plugins

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr asks the kernel to kill the plugin when the host dies, even by SIGKILL
// (prctl PR_SET_PDEATHSIG), and puts the plugin in a process group of its own, so that
// killing the group ends any helper it started too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup sends SIGKILL to the plugin's process group (see sysProcAttr).
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// execPath returns the name under which a child executes exactly the open file f:
// /proc/self/fd/N. Executing by that name rather than by the file's path means no one can
// swap the file between the checks made on f and the execve.
//
// It works in a host that made itself non-dumpable (prctl PR_SET_DUMPABLE 0, which makes
// its /proc entries root's): the kernel always lets a process read its own /proc/self,
// and the forked child, in the middle of execve, is /proc/self of its own, with the
// host's descriptors still open. Without /proc there is no such name, and the plugin is
// refused, never executed by path instead.
func execPath(f *os.File) (string, error) {
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	viaProc, err := os.Stat(path)
	if err == nil {
		var opened os.FileInfo
		if opened, err = f.Stat(); err == nil && !os.SameFile(viaProc, opened) {
			err = fmt.Errorf("%s is not %s", path, f.Name())
		}
	}
	if err != nil {
		return "", fmt.Errorf("/proc is not mounted (%v): a plugin is executed through /proc/self/fd, so that the file checked is the file that runs, never by name; mount /proc: %w",
			err, ErrPluginUnavailable)
	}
	return path, nil
}
