package plugins

// UnsafeFileError says why OpenTrusted (and so Launch) refused a file: it, or a directory on
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
