package profile

import (
	"errors"
	"strconv"
)

// Sentinel errors. Detail (file, line, setting) travels in an *Error that wraps them.
var (
	// ErrNotFound is wrapped by the *Error returned when the config file or the
	// profile in it does not exist, so callers can offer to create one.
	ErrNotFound = errors.New("profile: not found")
)

// Error is a problem with the config file, the profile or one of its settings.
// Its text names the place to fix ("FILE:LINE: ...") and never contains the
// value of awskeep_key, which may carry a pin-value.
type Error struct {
	File    string // the config file's path
	Line    int    // 1-based line of the problem; 0 when it concerns the whole file or profile
	Setting string // the setting at fault, "" when none
	Msg     string // what is wrong, in lower case, without the file and line
	Err     error  // what the error wraps (ErrNotFound, an I/O error) or nil
}

// Error returns "FILE:LINE: Msg", or "FILE: Msg" when the line is not known.
func (e *Error) Error() string {
	switch {
	case e.File == "" && e.Line == 0:
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	default:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
}

// Unwrap returns the wrapped error, so errors.Is(err, ErrNotFound) and
// errors.Is(err, fs.ErrPermission) work.
func (e *Error) Unwrap() error { return e.Err }
