//go:build !linux

package plugins

import "os/exec"

// setDeathSignal has no kernel support here; Serve's parent check ends orphans instead.
func setDeathSignal(*exec.Cmd) {}
