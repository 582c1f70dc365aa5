package secretsource

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors. Source.Secret, Store and Parse return an *Error or a *SpecError that
// wraps one of them (and the cause), so callers classify with errors.Is. A terminal that
// is missing is prompt.ErrNoTerminal (a *prompt.NoTerminalError naming Options.Setting),
// not a sentinel of this package.
var (
	// ErrInvalidSpec: Parse (or Store) was given a setting it does not understand.
	ErrInvalidSpec = errors.New("invalid secret source")
	// ErrNotFound: the source holds no such secret: Conjur answered 404 for the variable,
	// the keyring has no item of that name, the file does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrUnauthorized: the source refused the credentials awskeep presented: Conjur
	// refused the login and API key (or the token it had just issued), or the keyring file
	// password does not decrypt the item.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the source knows who is asking and refuses the read: Conjur answered
	// 403 (the login lacks the execute privilege on the variable, or may not log in from
	// this address).
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the source could not be reached or used: Conjur unreachable or
	// answering 5xx, no usable keyring backend (no D-Bus session bus, no pass program), no
	// awskeep-keyring helper to run.
	ErrUnavailable = errors.New("secret source unavailable")
	// ErrNotConfigured: a setting the source needs is missing or malformed: the Conjur
	// URL, account, login or API key, a CA certificate file, the keyring directory.
	ErrNotConfigured = errors.New("secret source not configured")
	// ErrInsecure: awskeep refused to use the source as configured because that would
	// expose the secret or trust what it should not: a file others may read or that
	// belongs to someone else, a plain-http Conjur URL to another host, a Conjur
	// certificate that does not verify, a redirect, an awskeep-keyring helper that someone
	// other than root and the user could have written.
	ErrInsecure = errors.New("insecure secret source")
	// ErrEmpty: the source answered with an empty secret (an empty first line, an empty
	// variable or keyring item, nothing typed at the prompt).
	ErrEmpty = errors.New("empty secret")
)

// Error is what Source.Secret and Store return: which source failed, what a user can do
// about it, and what it wraps. Its text never holds a secret, an API key or a token.
type Error struct {
	// Source is the source's String(), e.g. "conjur:prod/okta/password".
	Source string
	// Msg says what failed and, where possible, what to do.
	Msg string
	// Kind is one of the sentinels above, or nil.
	Kind error
	// Err is the underlying cause (a *StatusError, a net error, a context error), or nil.
	// Its text is part of Error()'s and never holds a secret either.
	Err error
}

// Error returns "Source: Msg: Err", leaving out the parts that are empty.
func (e *Error) Error() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{e.Source, e.Msg} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns Kind and Err, the ones that are set, so errors.Is and errors.As see both.
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

// newError builds an *Error; args format msg.
func newError(source string, kind, cause error, msg string, args ...any) *Error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &Error{Source: source, Msg: msg, Kind: kind, Err: cause}
}

// StatusError is an HTTP status that Conjur answered; it is the Err of the *Error that
// explains it. The response body is never kept: a server or a proxy may echo the request,
// and the request holds the API key or the token.
type StatusError struct {
	// Op is the Conjur call: "authenticate" or "retrieve secret".
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
}

// Error returns "Conjur answered 404 Not Found".
func (e *StatusError) Error() string {
	return fmt.Sprintf("Conjur answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// SpecError is what Parse returns for a setting it does not understand. It wraps
// ErrInvalidSpec.
type SpecError struct {
	// Spec is the setting as written when its kind is known, and "" otherwise: a setting
	// that is not conjur:, keyring:, file: or prompt may be the password itself, written
	// in the wrong place, so it is not repeated.
	Spec string
	// Reason says what is wrong.
	Reason string
	// Want lists the forms the setting takes, for the message; "" is every form Parse
	// takes (conjur:VARIABLE, keyring:NAME, file:PATH or prompt).
	Want string
}

// accepted is what Parse takes, for messages.
const accepted = "conjur:VARIABLE, keyring:NAME, file:PATH or prompt"

// Error returns `secret source "keyring:": <reason>; want ...`.
func (e *SpecError) Error() string {
	want := e.Want
	if want == "" {
		want = accepted
	}
	if e.Spec == "" {
		return fmt.Sprintf("secret source: %s; want %s", e.Reason, want)
	}
	return fmt.Sprintf("secret source %q: %s; want %s", e.Spec, e.Reason, want)
}

// Unwrap returns ErrInvalidSpec.
func (e *SpecError) Unwrap() error { return ErrInvalidSpec }
