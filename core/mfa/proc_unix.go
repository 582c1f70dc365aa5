//go:build unix

package mfa

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel puts the command in its own process group and, when the context ends,
// kills the whole group: /bin/sh -c may have started children (a password manager CLI, a
// sleep) that would otherwise outlive Run and keep its pipes open.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
