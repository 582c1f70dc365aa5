//go:build !linux

package harden

// Process does nothing on this system: awskeep's core-dump protection is Linux's prctl and
// rlimit; elsewhere rely on the system's own core settings.
func Process() error { return nil }

// RestoreChild does nothing on this system.
func RestoreChild(int) error { return nil }

// Dumpable reports true: nothing was changed.
func Dumpable() (bool, error) { return true, nil }
