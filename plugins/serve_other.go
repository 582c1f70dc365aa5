//go:build !linux

package plugins

// guardStdout is a no-op where descriptors cannot be rearranged portably.
func guardStdout() {}

// hardenProcess is a no-op here: RLIMIT_CORE and PR_SET_DUMPABLE are Linux's.
func hardenProcess() error { return nil }
