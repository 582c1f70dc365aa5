//go:build !unix

package mfa

import "os/exec"

// killGroupOnCancel leaves exec's default, killing the shell alone, where process groups
// do not exist.
func killGroupOnCancel(*exec.Cmd) {}
