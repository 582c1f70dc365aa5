package creds

import (
	"errors"
	"fmt"
)

// Class names the step of the engine an error comes from, so that the one line a user sees
// says where to look: a timed-out STS call is an STS error, not a device error, whatever the
// text of the underlying error.
type Class int

// The classes, in the order the engine meets them.
const (
	// ClassUnknown is an error no layer classified.
	ClassUnknown Class = iota
	// ClassConfig is a bad or missing setting: the profile, a flag, the key URI.
	ClassConfig
	// ClassPrompt is an answer that could not be obtained: no terminal, a failing
	// mfa_process, an empty answer.
	ClassPrompt
	// ClassPlugin is a plugin that could not be found, checked, started or that crashed.
	ClassPlugin
	// ClassDevice is the device's refusal or failure: wrong PIN, missing key, locked token.
	ClassDevice
	// ClassSTS is STS's refusal, an unreachable endpoint or a call that timed out.
	ClassSTS
	// ClassCache is the credential cache: an insecure directory, a lock held too long.
	ClassCache
	// ClassIdP is the identity provider's refusal or failure (SAML source): a wrong
	// password, a locked account, an unreachable IdP, a page without a SAMLResponse, an
	// assertion STS would refuse.
	ClassIdP
)

var classNames = [...]string{"unknown", "configuration", "prompt", "plugin", "device", "STS", "cache", "IdP"}

// String names the class.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Error is an error of one class. Op says what was being done ("STS AssumeRole",
// "open key pkcs11:token=aws;object=prod"); it is the prefix of the message.
type Error struct {
	Class Class
	Op    string
	Err   error
}

// Error is "Op: Err", or Err's text when Op is empty.
func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause, so sentinels (plugins.ErrPINIncorrect, context.DeadlineExceeded)
// still match with errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// Wrap classifies err as class, with op as its prefix. A nil err stays nil. An error that
// already carries a class keeps it: the innermost layer knows best which step failed.
func Wrap(class Class, op string, err error) error {
	if err == nil {
		return nil
	}
	if ClassOf(err) != ClassUnknown {
		if op == "" {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return &Error{Class: class, Op: op, Err: err}
}

// ClassOf returns the class of the innermost classified error in err's chain.
func ClassOf(err error) Class {
	class := ClassUnknown
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			break
		}
		class = e.Class
		err = e.Err
	}
	return class
}
