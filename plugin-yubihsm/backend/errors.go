package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
)

// deviceError is a failure translated for the host: it unwraps both to the contract's
// sentinel and to the client's error, so errors.Is works with either.
type deviceError struct {
	op       string
	sentinel error
	hint     string
	err      error
}

func (e *deviceError) Error() string {
	detail := strings.TrimPrefix(e.err.Error(), "yubihsm: ")
	if e.hint != "" {
		return fmt.Sprintf("yubihsm: %s: %v: %s (%s)", e.op, e.sentinel, e.hint, detail)
	}
	return fmt.Sprintf("yubihsm: %s: %v: %s", e.op, e.sentinel, detail)
}

func (e *deviceError) Unwrap() []error { return []error{e.sentinel, e.err} }

// translate maps a client error to the contract's errors, with a hint at what to do.
// Context errors pass through wrapped, so errors.Is(err, context.Canceled) holds.
func translate(op string, ref keyRef, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("yubihsm: %s: %w", op, err)
	}
	e := &deviceError{op: op, err: err, sentinel: plugins.ErrDevice}
	switch {
	case errors.Is(err, yubihsm.ErrAuthentication):
		e.sentinel = plugins.ErrPINIncorrect
		e.hint = fmt.Sprintf("the device refused the password of authentication key %#04x", ref.authKeyID)
	case errors.Is(err, yubihsm.ErrAuthKeyNotFound):
		e.sentinel = plugins.ErrInvalidKeyURI
		e.hint = fmt.Sprintf("the device has no authentication key %#04x: check auth-key-id in the key URI", ref.authKeyID)
	case errors.Is(err, yubihsm.ErrObjectNotFound):
		e.sentinel = plugins.ErrKeyNotFound
		e.hint = fmt.Sprintf("no HMAC key %#04x that authentication key %#04x can see: check object-id, or import the key", ref.objectID, ref.authKeyID)
	case errors.Is(err, yubihsm.ErrObjectExists):
		e.sentinel = plugins.ErrKeyExists
		e.hint = fmt.Sprintf("object %#04x is taken: import with --force to replace it, or choose another object-id", ref.objectID)
	case errors.Is(err, yubihsm.ErrInsufficientPermissions):
		e.sentinel = plugins.ErrPermissionDenied
		e.hint = fmt.Sprintf("authentication key %#04x lacks the capability or domain this needs (sign-hmac to sign, put-mac-key to import, delete-hmac-key to delete, get-log-entries to read the audit log)", ref.authKeyID)
	case errors.Is(err, yubihsm.ErrLogFull):
		e.hint = "the device's audit log is full and force audit is on, so it runs no logged command until the log is read and released: run awskeep audit --mark-read"
	case errors.Is(err, yubihsm.ErrSessionsFull):
		e.sentinel = plugins.ErrDeviceUnavailable
	case errors.Is(err, yubihsm.ErrConnector):
		e.sentinel = plugins.ErrDeviceUnavailable
	case errors.Is(err, yubihsm.ErrTooLarge):
		e.sentinel = plugins.ErrMessageTooLarge
	}
	return e
}
