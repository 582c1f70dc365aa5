//go:build !linux

package plugins

// guardStdout is a no-op where descriptors cannot be rearranged portably.
func guardStdout() {}
