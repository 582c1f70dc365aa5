package plugins

import (
	"errors"

	"github.com/awskeep/awskeep/plugins/trust"
)

// The contract's errors. Backends wrap them (fmt.Errorf("pkcs11: login: %w", ErrPINIncorrect))
// at the edge where a device code is translated; they keep their identity across the plugin
// boundary, so the host tests them with errors.Is. Protocol v1 defines exactly these; a new
// minor version may add more, and an unknown code arrives as ErrDevice. An error wraps
// exactly one of them (the conformance kit checks). WrapSystemError maps the operating
// system's and the network's errors (connection refused, no such host, timeouts, permission)
// to them, and MissingPIN is the error for a key used without its PIN.
var (
	// ErrKeyNotFound: no key matches the URI.
	ErrKeyNotFound = errors.New("key not found")
	// ErrPINIncorrect: the device refused the PIN or password. Never retry automatically:
	// devices lock after a few failures.
	ErrPINIncorrect = errors.New("PIN or password incorrect")
	// ErrPINLocked: the device locked the PIN or entered lockout after failures.
	ErrPINLocked = errors.New("PIN locked")
	// ErrDeviceUnavailable: the device, token, connector or module cannot be reached.
	ErrDeviceUnavailable = errors.New("device unavailable")
	// ErrKeyExists: ImportKey found a key already there and was not asked to overwrite it.
	ErrKeyExists = errors.New("key already exists")
	// ErrAmbiguousKey: more than one key matches the URI.
	ErrAmbiguousKey = errors.New("more than one key matches")
	// ErrUnsupported: the backend or device cannot do what was asked.
	ErrUnsupported = errors.New("not supported")
	// ErrInvalidKeyURI: the key URI is malformed or names nothing this backend serves.
	ErrInvalidKeyURI = errors.New("invalid key URI")
	// ErrPermissionDenied: the credentials are right but lack the permission asked for.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrMessageTooLarge: an HMAC message is longer than MaxMessageSize. Added to the
	// list in DESIGN.md so a too-large message is not confused with a device fault.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrDevice: any other failure inside the backend or device.
	ErrDevice = errors.New("device error")
)

// ErrPluginUnavailable is the host's own error, never a backend's: the plugin process could
// not be started, broke the handshake, or went away during a call.
var ErrPluginUnavailable = errors.New("plugin unavailable")

// ErrChecksumMismatch is host-only too: Launch refused a binary whose sha256 is not the one
// in LaunchOptions.SHA256. It comes wrapped together with ErrPluginUnavailable.
var ErrChecksumMismatch = errors.New("plugin checksum mismatch")

// ErrUnsafeFile is host-only too: Launch (or a host checking its own files with
// OpenTrusted) refused a file that someone other than root and the current user could have
// written or replaced. It comes as an *UnsafeFileError that says which file or directory
// and how to fix it; Launch wraps it together with ErrPluginUnavailable.
var ErrUnsafeFile = trust.ErrUnsafeFile
