// Package trust opens files that only root and the current user could have written: the
// plugin binaries a host executes, the helpers awskeep runs, awskeep's own programs. It
// uses nothing but the standard library, so that the smallest program can link it.
package trust

import "errors"

// ErrUnsafeFile is the error every refusal unwraps to.
var ErrUnsafeFile = errors.New("file others could change")

// UnsafeFileError says why Open (and so plugins.Launch) refused a file: it, or a directory on
// the way to it, could have been written or replaced by someone other than root and the
// current user, or it is not the kind of file asked for. It unwraps to ErrUnsafeFile.
type UnsafeFileError struct {
	// Path is the file or directory at fault, with symlinks resolved.
	Path string
	// Dir is set when Path is a directory on the way to the file.
	Dir bool
	// Problem says what is wrong, e.g. "is writable by group or others (mode 0775)".
	Problem string
	// Fix is the command that fixes it, e.g. "chmod go-w /opt/plugins"; "" when there is
	// no single command.
	Fix string
}

func (e *UnsafeFileError) Error() string {
	s := e.Path + " " + e.Problem
	if e.Dir {
		s = "directory " + s
	}
	if e.Fix != "" {
		s += "; run " + e.Fix
	}
	return s
}

func (e *UnsafeFileError) Unwrap() error { return ErrUnsafeFile }
