package yubihsm

import (
	"errors"
	"fmt"
)

// ErrorCode is a YubiHSM 2 error code, the last byte of an error response 7f | 0001 | code.
// It is an error, so errors.Is(err, ErrObjectNotFound) finds it inside a [*DeviceError].
type ErrorCode byte

// Device error codes (YubiHSM 2 command reference, "Errors").
const (
	ErrOK                       ErrorCode = 0x00
	ErrInvalidCommand           ErrorCode = 0x01
	ErrInvalidData              ErrorCode = 0x02
	ErrInvalidSession           ErrorCode = 0x03
	ErrAuthenticationFailed     ErrorCode = 0x04
	ErrSessionsFull             ErrorCode = 0x05
	ErrSessionFailed            ErrorCode = 0x06
	ErrStorageFailed            ErrorCode = 0x07
	ErrWrongLength              ErrorCode = 0x08
	ErrInsufficientPermissions  ErrorCode = 0x09
	ErrLogFull                  ErrorCode = 0x0a
	ErrObjectNotFound           ErrorCode = 0x0b
	ErrInvalidID                ErrorCode = 0x0c
	ErrSSHCAConstraintViolation ErrorCode = 0x0e
	ErrInvalidOTP               ErrorCode = 0x0f
	ErrDemoMode                 ErrorCode = 0x10
	ErrObjectExists             ErrorCode = 0x11
	ErrCommandUnexecuted        ErrorCode = 0xff
)

var errorNames = map[ErrorCode]string{
	ErrOK: "ok", ErrInvalidCommand: "invalid command", ErrInvalidData: "invalid data",
	ErrInvalidSession: "invalid session", ErrAuthenticationFailed: "authentication failed",
	ErrSessionsFull: "sessions full", ErrSessionFailed: "session failed", ErrStorageFailed: "storage failed",
	ErrWrongLength: "wrong length", ErrInsufficientPermissions: "insufficient permissions",
	ErrLogFull: "log full", ErrObjectNotFound: "object not found", ErrInvalidID: "invalid id",
	ErrSSHCAConstraintViolation: "ssh ca constraint violation", ErrInvalidOTP: "invalid otp",
	ErrDemoMode: "demo mode", ErrObjectExists: "object exists", ErrCommandUnexecuted: "command unexecuted",
}

// Error names the code, e.g. "object not found (device error 0x0b)".
func (e ErrorCode) Error() string {
	n, ok := errorNames[e]
	if !ok {
		n = "unknown error"
	}
	return fmt.Sprintf("%s (device error 0x%02x)", n, byte(e))
}

// DeviceError is a command the device refused with an error code.
type DeviceError struct {
	// Command is the command that failed (the inner command for SESSION_MESSAGE).
	Command Command
	// Code is the device's error code.
	Code ErrorCode
}

// Error says which command failed and why, e.g. "yubihsm: SIGN_HMAC: object not found (device error 0x0b)".
func (e *DeviceError) Error() string {
	return fmt.Sprintf("yubihsm: %v: %v", e.Command, e.Code)
}

// Unwrap returns the error code.
func (e *DeviceError) Unwrap() error { return e.Code }

// Errors the client itself reports.
var (
	// ErrAuthentication: the device refused the authentication key's password (or the card
	// cryptogram did not match it, which means the same). Never retried automatically.
	ErrAuthentication = errors.New("yubihsm: authentication failed: wrong password for the authentication key")
	// ErrAuthKeyNotFound: CREATE_SESSION named an authentication key the device does not have.
	ErrAuthKeyNotFound = errors.New("yubihsm: authentication key not found on the device")
	// ErrSessionLost: the device no longer knows the session (expired, closed, reused) and a
	// fresh one could not be used either.
	ErrSessionLost = errors.New("yubihsm: session lost")
	// ErrResponseMAC: a response's R-MAC does not verify; the reply was altered on its way
	// or did not come from the device. The session is discarded.
	ErrResponseMAC = errors.New("yubihsm: response MAC does not verify: the reply was altered or did not come from the device")
	// ErrMalformed: a response is not a well-formed frame for the command sent.
	ErrMalformed = errors.New("yubihsm: malformed response")
	// ErrTooLarge: a command does not fit one 2048-byte frame.
	ErrTooLarge = errors.New("yubihsm: command too large for one frame")
	// ErrConnector: the connector could not be reached or answered with an HTTP error.
	ErrConnector = errors.New("yubihsm: connector failed")
)

// ConnectorError is a failed HTTP exchange with yubihsm-connector. It matches ErrConnector.
type ConnectorError struct {
	// URL is the endpoint called.
	URL string
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Err is the transport error, if any.
	Err error
}

// Error names the endpoint and what went wrong, with what to check.
func (e *ConnectorError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("yubihsm: connector %s answered HTTP %d: is yubihsm-connector running with the device attached?", e.URL, e.StatusCode)
	}
	return fmt.Sprintf("yubihsm: connector %s unreachable: %v: is yubihsm-connector running?", e.URL, e.Err)
}

// Unwrap returns the transport error.
func (e *ConnectorError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrConnector) hold.
func (e *ConnectorError) Is(target error) bool { return target == ErrConnector }
