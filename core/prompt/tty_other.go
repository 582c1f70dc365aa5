//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package prompt

import (
	"context"
	"fmt"
	"runtime"
)

// TTY prompts on the controlling terminal. On this system awskeep cannot open one, so every
// call fails with ErrNoTerminal and the caller names the setting that answers instead.
type TTY struct {
	// Path is the terminal device to open; "" means the controlling terminal.
	Path string
}

var _ Prompter = TTY{}

var errUnsupported = fmt.Errorf("prompt: %w: terminal prompts are not supported on %s", ErrNoTerminal, runtime.GOOS)

// Secret fails with ErrNoTerminal.
func (TTY) Secret(context.Context, string) (string, error) { return "", errUnsupported }

// Line fails with ErrNoTerminal.
func (TTY) Line(context.Context, string) (string, error) { return "", errUnsupported }

// Choose fails with ErrNoTerminal.
func (TTY) Choose(context.Context, string, []string) (int, error) { return -1, errUnsupported }

// Available fails with ErrNoTerminal.
func (TTY) Available() error { return errUnsupported }
