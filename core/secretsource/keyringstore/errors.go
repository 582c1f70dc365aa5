package keyringstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Sentinel errors. Get and Set return an *Error that wraps one of them (or none, for a
// failure without a class) and the cause; ExitCode maps them to the helper's exit statuses.
var (
	// ErrInvalidName: the item name breaks protocol.CheckName.
	ErrInvalidName = errors.New("invalid keyring item name")
	// ErrNotFound: the backend has no item of that name.
	ErrNotFound = errors.New("keyring item not found")
	// ErrUnauthorized: the file backend's password does not decrypt the item, or (Set)
	// does not open the items already in the directory.
	ErrUnauthorized = errors.New("wrong keyring password")
	// ErrUnavailable: none of the backends is available (no D-Bus session bus, no pass
	// program, a kernel keyring that refuses access).
	ErrUnavailable = errors.New("no keyring backend available")
	// ErrNotConfigured: a setting is missing or malformed: an unknown backend, no
	// directory for the file backend.
	ErrNotConfigured = errors.New("keyring not configured")
	// ErrEmpty: the item is empty, or Set was given an empty secret.
	ErrEmpty = errors.New("empty keyring item")
	// ErrForeignItem: the item is not in the form awskeep stores (one put into pass by
	// hand, say); its content is not quoted.
	ErrForeignItem = errors.New("keyring item not in awskeep's form")
)

// Error is what Get and Set return. Its text never holds the secret or a password.
type Error struct {
	// Msg says what failed and, where possible, what to do.
	Msg string
	// Kind is one of the sentinels above, or nil.
	Kind error
	// Err is the underlying cause, or nil.
	Err error
}

// Error returns "Msg: Err", leaving out what is empty.
func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.Msg
	case e.Msg == "":
		return e.Err.Error()
	}
	return e.Msg + ": " + e.Err.Error()
}

// Unwrap returns Kind and Err, the ones that are set.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func newError(kind, cause error, msg string, args ...any) *Error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &Error{Msg: msg, Kind: kind, Err: cause}
}

// ExitCode is the helper's exit status for err (protocol.ExitOK for nil).
func ExitCode(err error) int {
	switch {
	case err == nil:
		return protocol.ExitOK
	case errors.Is(err, ErrInvalidName):
		return protocol.ExitUsage
	case errors.Is(err, ErrNotFound):
		return protocol.ExitNotFound
	case errors.Is(err, ErrUnauthorized):
		return protocol.ExitUnauthorized
	case errors.Is(err, ErrUnavailable):
		return protocol.ExitUnavailable
	case errors.Is(err, ErrNotConfigured):
		return protocol.ExitNotConfigured
	case errors.Is(err, ErrEmpty):
		return protocol.ExitEmpty
	case errors.Is(err, ErrForeignItem):
		return protocol.ExitForeignItem
	}
	return protocol.ExitFailure
}

// Message is err as the helper's one stderr line: "awskeep-keyring: ...", line breaks and
// other control characters replaced by spaces.
func Message(err error) string {
	msg := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, err.Error())
	return protocol.MessagePrefix + msg
}
