package plugins

import (
	"context"
	"fmt"
	"log/slog"
)

// MaxMessageSize is the largest message a Backend must accept for HMAC, in bytes. A SigV4
// date is 8 bytes; the limit leaves room for other uses without turning the device into a
// bulk MAC engine. Larger messages are refused with ErrMessageTooLarge.
const MaxMessageSize = 4096

// Backend is a store of non-extractable HMAC-SHA256 keys on one kind of device.
//
// Every method takes a Key naming the key and carrying the resolved PIN or password. A method
// must honour ctx: return promptly with ctx.Err() once it is done. Errors should wrap one of
// the sentinels in errors.go so the host can tell the user what to do. Implementations must be
// safe for concurrent use.
type Backend interface {
	// Info describes the backend. It must not touch the device.
	Info(ctx context.Context) (Info, error)
	// HMAC returns HMAC-SHA256(key, message) computed by the device. message may be empty
	// and is at most MaxMessageSize bytes.
	HMAC(ctx context.Context, key Key, message []byte) ([]byte, error)
	// ImportKey stores material as a non-extractable, sign-only HMAC key. It returns
	// ErrKeyExists if the key is there already, unless opts.Overwrite is set.
	//
	// key.PIN is the PIN the host resolved, as for every call: the new key's own PIN on
	// devices that give each key one (a TPM object's auth value, the example's keys), the
	// login PIN otherwise. Replacing a key (opts.Overwrite) destroys one, so a backend whose
	// keys have PINs should demand the existing key's PIN first, as DeleteKey does; the
	// contract leaves it to the device, so say in the package doc what yours does.
	ImportKey(ctx context.Context, key Key, material []byte, opts ImportOptions) error
	// DescribeKey reports what the device says about the key. A missing key is not an
	// error: the description says Exists false.
	DescribeKey(ctx context.Context, key Key) (KeyDescription, error)
	// DeleteKey removes the key. It returns ErrKeyNotFound if there is none.
	//
	// The host sends the resolved PIN here too (awskeep keys delete asks for it like any
	// command). A backend whose keys have PINs should refuse to delete without the right
	// one (ErrPINIncorrect), so that destroying a key takes what using it takes: pkcs11 and
	// yubihsm need it because their session logs in with it, and example checks the key's
	// PIN. The contract does not demand it: tpm evicts a persistent key with the owner
	// hierarchy's authorization and removes a key file like any file.
	DeleteKey(ctx context.Context, key Key) error
}

// Key names a key and carries what is needed to use it.
type Key struct {
	// URI is the key URI with pin-value and pin-source removed (see package keyuri).
	URI string
	// PIN is the PIN or password the host resolved for the URI, empty if none. It is never
	// printed by String, GoString or LogValue.
	PIN string
}

// String returns the URI; the PIN is never printed.
func (k Key) String() string { return k.URI }

// GoString keeps %#v from printing the PIN.
func (k Key) GoString() string {
	return fmt.Sprintf("plugins.Key{URI: %q, PIN: %s}", k.URI, redacted(k.PIN))
}

// LogValue keeps slog from printing the PIN.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("uri", k.URI), slog.String("pin", redacted(k.PIN)))
}

// Format makes every fmt verb go through String or GoString.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}

func redacted(pin string) string {
	if pin == "" {
		return `""`
	}
	return "[redacted]"
}

// ImportOptions modify ImportKey.
type ImportOptions struct {
	// Overwrite replaces an existing key with the same name instead of failing with
	// ErrKeyExists (awskeep import --force). See Backend.ImportKey for the PIN it takes.
	Overwrite bool
}

// Info describes a backend.
type Info struct {
	// Name is the backend's short name, e.g. "pkcs11"; the plugin binary is
	// "awskeep-plugin-" + Name.
	Name string
	// Version is the backend's own version, free form (semantic versioning recommended).
	Version string
	// ProtocolVersion is the contract version the backend implements: ProtocolVersion.
	ProtocolVersion string
	// Schemes lists the key URI schemes the backend serves, e.g. ["pkcs11"].
	Schemes []string
	// Capabilities lists optional features; see the Capability constants.
	Capabilities []string
	// MaxMessageSize is the largest HMAC message the device can take when that is less
	// than MaxMessageSize (a YubiHSM 2 frame holds 2026 bytes of data); 0 means
	// MaxMessageSize. Longer messages must fail with ErrMessageTooLarge. SigV4 needs 8.
	// Added in protocol 1.1.
	MaxMessageSize int
}

// Capability names for Info.Capabilities.
const (
	// CapabilityNonExtractable says DescribeKey reports the device's own extractable and
	// sensitive flags (as opposed to a software store that cannot enforce them). The
	// conformance kit then demands Extractable false and Sensitive true of every imported
	// key. A backend declares at most one of CapabilityNonExtractable and
	// CapabilitySoftwareWrapped.
	CapabilityNonExtractable = "non-extractable"
	// CapabilitySoftwareWrapped says the key is kept encrypted (for example a Tink keyset
	// wrapped by a KMS key) and decrypted into the plugin's memory to compute HMACs. Anyone
	// with the stored file and access to the wrapping key can recover the key value, so it
	// is extractable in the contract's sense and weaker than a device; its value is that the
	// file alone is useless. A backend that declares it reports every key honestly:
	// DescribeKey says Extractable true and Sensitive false (the conformance kit checks
	// both), and Attributes may name the wrapping key. Hosts accept such keys but say what
	// they are.
	CapabilitySoftwareWrapped = "software-wrapped"
	// CapabilityPIN says keys are protected by a PIN or password that the backend checks
	// (a token's user PIN, a TPM object's auth value, a YubiHSM authentication key's
	// password, a Vault token). The host reads it: for a backend that declares it, it
	// resolves a PIN for every key (pin-source, pin-value, $AWSKEEP_PIN, then a prompt; a
	// key without a PIN says so with an empty pin-value= in its URI); for one that does not,
	// only a PIN the URI names (pin-source, a non-empty pin-value), never $AWSKEEP_PIN or a
	// prompt. It sends the PIN in Key.PIN ("" if none) and never retries one the backend
	// refused. A backend that declares it returns ErrPINIncorrect for a wrong PIN (the
	// conformance kit checks this when Config.WrongPIN is set) and ErrPINLocked once the
	// device stops accepting tries. A backend without PINs ignores Key.PIN.
	CapabilityPIN = "pin"
)

// ProtocolVersion is the version of the contract this package implements. 1.1 added
// Info.MaxMessageSize. 1.2 secures the channel on Linux without TLS: a unix socket in a
// private directory whose ends check each other's process (SO_PEERCRED); hosts warn about
// plugins built for an older version, whose side checks nothing. 1.3 adds the optional
// operations ListKeys (KeyLister, CapabilityListKeys) and AuditLog (AuditLogReader,
// CapabilityAuditLog); a plugin without them, or built before 1.3, answers ErrUnsupported.
const ProtocolVersion = "1.3"

// AlgorithmHMACSHA256 is the only key algorithm of protocol v1.
const AlgorithmHMACSHA256 = "hmac-sha256"

// KeyDescription is what DescribeKey reports.
type KeyDescription struct {
	// Exists is false when the device has no key by that name; the other fields are then zero.
	Exists bool
	// Algorithm is AlgorithmHMACSHA256 for keys awskeep imported.
	Algorithm string
	// Extractable reports whether the device would let the key value out (in clear or
	// wrapped). awskeep keys must report false, except on a backend that declares
	// CapabilitySoftwareWrapped, whose keys must report true.
	Extractable bool
	// Sensitive reports whether the device refuses to reveal the key value in clear.
	Sensitive bool
	// Label is the device's name for the key, if it has one.
	Label string
	// Attributes carries further backend-specific facts, e.g. {"id": "01"}.
	Attributes map[string]string
}

// CheckMessage returns ErrMessageTooLarge if message is longer than MaxMessageSize. Backends
// call it first thing in HMAC.
func CheckMessage(message []byte) error {
	if len(message) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrMessageTooLarge, len(message), MaxMessageSize)
	}
	return nil
}
