//go:build linux

package harden

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu       sync.Mutex
	original *unix.Rlimit // the core limit before Process, for RestoreChild
)

// Process sets this process's core size limit to zero (soft and hard: a crash cannot raise
// it back) and marks it non-dumpable. It is idempotent.
func Process() error {
	mu.Lock()
	defer mu.Unlock()
	if original == nil {
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			return fmt.Errorf("harden: read the core limit: %w", err)
		}
		original = &lim
	}
	// The soft limit only: lowering the hard one would keep RestoreChild from giving
	// children the user's limit back (an unprivileged process cannot raise a hard limit).
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: original.Max}); err != nil {
		return fmt.Errorf("harden: set the core limit to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("harden: PR_SET_DUMPABLE: %w", err)
	}
	return nil
}

// RestoreChild gives the started child pid the core limit this process had before Process
// (prlimit(2)); without Process it does nothing.
func RestoreChild(pid int) error {
	mu.Lock()
	lim := original
	mu.Unlock()
	if lim == nil {
		return nil
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_CORE, lim, nil); err != nil {
		return fmt.Errorf("harden: restore the core limit of pid %d: %w", pid, err)
	}
	return nil
}

// Dumpable reports whether the process is dumpable (for tests and doctor).
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
