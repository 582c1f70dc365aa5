//go:build !unix

package fastpath

import (
	"errors"
	"runtime"
)

// fileIdentity has no inode to go by here: no invocation takes the fast path.
func fileIdentity(string) (string, error) {
	return "", errors.New("fastpath: not supported on " + runtime.GOOS)
}
