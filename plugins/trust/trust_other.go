//go:build !unix

package trust

import (
	"os"
	"runtime"
)

// Open refuses every file here: this system has no owners and modes to check.
func Open(path string) (*os.File, error) {
	return nil, &UnsafeFileError{Path: path, Problem: "cannot be checked on " + runtime.GOOS}
}
