package plugins

import (
	"os/exec"
	"syscall"
)

// setDeathSignal asks the kernel to kill the plugin when the host dies, even by SIGKILL
// (prctl PR_SET_PDEATHSIG).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
