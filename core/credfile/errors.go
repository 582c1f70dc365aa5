package credfile

import (
	"errors"
	"fmt"
)

// Sentinel errors of credfile. Errors returned by Update wrap one of them where one
// applies, so callers can tell them apart with errors.Is; the text around them says what
// to do. No error text ever holds a credential or a line of the file (it may hold one).
var (
	// ErrInvalidName means a section name that cannot be written safely (see CheckName).
	ErrInvalidName = errors.New("invalid credentials-file section name")

	// ErrInvalidCredentials means credentials that cannot be written: incomplete, already
	// expired, or holding a line break (ini has no escapes).
	ErrInvalidCredentials = errors.New("credentials cannot be written")

	// ErrInsecureFile means the credentials file is open to group or others, is owned by
	// another user, or is not a regular file: Update refuses to put secrets there.
	ErrInsecureFile = errors.New("credentials file is not private")

	// ErrLockTimeout means another process held the file's lock for longer than
	// Options.LockTimeout.
	ErrLockTimeout = errors.New("timed out waiting for the credentials file lock")

	// ErrNoSection means UpdateConfig found no section for the profile (or no file).
	ErrNoSection = errors.New("no such profile in the config file")

	// ErrUnsupported means the operating system lacks what Update needs (flock,
	// O_NOFOLLOW, file owners).
	ErrUnsupported = errors.New("not supported on this operating system")
)

// SyntaxError is a credentials file Update cannot edit without guessing: a section header
// without its closing bracket, an empty section name, or the section to write appearing
// more than once. It names the line, never its text.
type SyntaxError struct {
	Path   string
	Line   int // 1-based
	Reason string
}

func (e *SyntaxError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("credentials file %s:%d: %s", e.Path, e.Line, e.Reason)
}
