package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Optional operations of protocol 1.3. A backend offers one by implementing its interface
// and naming its capability in Info.Capabilities; the conformance kit holds it to both (a
// capability claimed is checked, an operation not claimed must answer ErrUnsupported). A
// backend that implements neither needs no change: the SDK answers ErrUnsupported for it,
// and a host talking to a plugin built before 1.3 gets ErrUnsupported too (the plugin's
// gRPC server answers UNIMPLEMENTED for an RPC it does not know).
const (
	// CapabilityListKeys says the backend implements KeyLister.
	CapabilityListKeys = "list-keys"
	// CapabilityAuditLog says the backend implements AuditLogReader.
	CapabilityAuditLog = "audit-log"
)

// KeyLister is implemented by backends that can list the awskeep keys on a device
// (awskeep keys list). Added in protocol 1.3.
type KeyLister interface {
	// ListKeys lists the awskeep keys on the device that key.URI names. The URI's object
	// part may be left out (parse it with keyuri.ParseDevice); path attributes that name one
	// key are ignored, so a key's own URI lists its neighbours. key.PIN is the PIN the host
	// resolved, for devices that show their keys only after a login.
	//
	// "awskeep keys" are the HMAC-SHA256 keys the backend's ImportKey makes; a device's
	// other objects are left out. Every entry's URI names that one key and works as-is with
	// the other operations. An empty device is an empty list, not an error.
	ListKeys(ctx context.Context, key Key) ([]KeyEntry, error)
}

// KeyEntry is one key ListKeys found.
type KeyEntry struct {
	// URI names exactly this key: the request URI's query attributes (module, device,
	// connector) with the path attributes of this key. Never a pin-value or pin-source.
	URI string
	// Label is the device's name for the key, empty if it has none.
	Label string
	// Created is when the key was made, where the device records it (a PKCS#11 object's
	// CKA_START_DATE, a file's modification time); the zero time when it does not. Only
	// whole seconds cross the wire.
	Created time.Time
	// Attributes carries further backend-specific facts, e.g. {"id": "01"}.
	Attributes map[string]string
}

// AuditLogReader is implemented by backends whose device keeps an audit log of the
// operations it performed (the YubiHSM 2). Added in protocol 1.3.
type AuditLogReader interface {
	// AuditLog returns the device's log entries as the device keeps them, oldest first, and
	// with req.MarkRead sets the device's log index afterwards (see AuditLogRequest). The
	// URI names the device as for ListKeys; key.PIN authenticates to it.
	//
	// The plugin returns what the device said and nothing else: it does not verify the
	// digest chain or filter entries. That is the host's work (awskeep audit), so that a
	// plugin cannot hide tampering by dropping what it does not like.
	AuditLog(ctx context.Context, key Key, req AuditLogRequest) (AuditLogResult, error)
}

// AuditLogRequest modifies AuditLog.
type AuditLogRequest struct {
	// MarkRead sets the device's log index to MarkReadThrough once the entries have been
	// read (YubiHSM 2 command Set Log Index, 0x67). Entries numbered up to it count as read:
	// with the forced-audit option on, a full log refuses further logged commands until
	// they are, and the device may then overwrite them.
	MarkRead bool
	// MarkReadThrough is the number of the last entry the caller has processed, normally
	// the last one AuditLog returned. Only read with MarkRead.
	MarkReadThrough uint16
}

// AuditLogResult is the device's answer to YubiHSM 2 command Get Log Entries (0x4d).
type AuditLogResult struct {
	// UnloggedBoots and UnloggedAuths count the boots and authentications the device could
	// not log because the log was full, since the log index was last set.
	UnloggedBoots, UnloggedAuths uint16
	// Entries are the log entries the device holds, in the device's order.
	Entries []AuditLogEntry
}

// AuditLogEntrySize is the size of one YubiHSM 2 log entry on the wire, in bytes, and
// AuditLogDigestSize that of its Digest, the last part of it.
const (
	AuditLogEntrySize  = 32
	AuditLogDigestSize = 16
)

// AuditLogEntry is one YubiHSM 2 log entry, field by field as the device returned it
// (Yubico's "Get Log Entries" command reference; python-yubihsm core.LogEntry, struct
// format "!HBHHHHBL16s").
//
// Digest chains the log: Digest = SHA-256(first 16 bytes of this entry || previous entry's
// Digest), truncated to 16 bytes. Bytes gives the entry back in the device's encoding so
// that the host can verify the chain without knowing the layout.
type AuditLogEntry struct {
	// Number is the entry's sequence number; it grows by one per logged event.
	Number uint16
	// Command is the command's code (0x53 Sign HMAC, 0x03 Create Session, ...); 0x00 and
	// 0xff mark the device's own boot and reset entries.
	Command uint8
	// Length is the length of the command's data.
	Length uint16
	// SessionKey is the authentication key of the session that sent the command.
	SessionKey uint16
	// TargetKey and SecondKey are the objects the command used (for Sign HMAC the HMAC key
	// in TargetKey), 0xffff where none.
	TargetKey, SecondKey uint16
	// Result is the response code: the command's code | 0x80 on success, 0x7f on error.
	Result uint8
	// Tick is the device's system tick when the command ran, counted from its boot (0 again
	// after every boot). Yubico does not document the unit; awskeep audit assumes about 1 ms
	// until two of its runs measure it (docs/audit.md).
	Tick uint32
	// Digest is the entry's link in the chain (see AuditLogEntry).
	Digest [AuditLogDigestSize]byte
}

// ParseAuditLogEntry decodes one entry from the device's 32-byte big-endian encoding, as
// Get Log Entries (0x4d) returns it (YubiHSM 2 command reference; python-yubihsm
// LogEntry.parse); Bytes is its inverse. Any other length fails with ErrDevice.
func ParseAuditLogEntry(b []byte) (AuditLogEntry, error) {
	if len(b) != AuditLogEntrySize {
		return AuditLogEntry{}, fmt.Errorf("audit log entry of %d bytes, want %d: %w", len(b), AuditLogEntrySize, ErrDevice)
	}
	e := AuditLogEntry{
		Number: binary.BigEndian.Uint16(b), Command: b[2], Length: binary.BigEndian.Uint16(b[3:]),
		SessionKey: binary.BigEndian.Uint16(b[5:]), TargetKey: binary.BigEndian.Uint16(b[7:]),
		SecondKey: binary.BigEndian.Uint16(b[9:]), Result: b[11], Tick: binary.BigEndian.Uint32(b[12:]),
	}
	copy(e.Digest[:], b[AuditLogEntrySize-AuditLogDigestSize:])
	return e, nil
}

// Bytes returns the entry in the device's 32-byte big-endian encoding.
func (e AuditLogEntry) Bytes() []byte {
	b := make([]byte, 0, AuditLogEntrySize)
	b = binary.BigEndian.AppendUint16(b, e.Number)
	b = append(b, e.Command)
	b = binary.BigEndian.AppendUint16(b, e.Length)
	b = binary.BigEndian.AppendUint16(b, e.SessionKey)
	b = binary.BigEndian.AppendUint16(b, e.TargetKey)
	b = binary.BigEndian.AppendUint16(b, e.SecondKey)
	b = append(b, e.Result)
	b = binary.BigEndian.AppendUint32(b, e.Tick)
	return append(b, e.Digest[:]...)
}

// Follows reports whether e's Digest is the one the device computes for e after prev (see
// AuditLogDigest). An entry that does not follow the one before it (numbered one less) was
// altered, or an entry between them was.
func (e AuditLogEntry) Follows(prev AuditLogEntry) bool {
	return AuditLogDigest(e.Bytes()[:AuditLogEntrySize-AuditLogDigestSize], prev.Digest) == e.Digest
}

// AuditLogDigest is the Digest the device gives an entry whose first 16 bytes (all but the
// digest) are data, logged after an entry whose Digest is prev: SHA-256(data || prev),
// truncated to AuditLogDigestSize (YubiHSM 2 concepts, Logs; python-yubihsm
// LogEntry.validate).
func AuditLogDigest(data []byte, prev [AuditLogDigestSize]byte) [AuditLogDigestSize]byte {
	h := sha256.New()
	h.Write(data)
	h.Write(prev[:])
	var d [AuditLogDigestSize]byte
	copy(d[:], h.Sum(nil))
	return d
}

// ListKeys calls b's ListKeys if b implements KeyLister (a backend in process, or a
// launched Plugin, whose calls go over the wire) and fails with ErrUnsupported otherwise.
func ListKeys(ctx context.Context, b Backend, key Key) ([]KeyEntry, error) {
	l, ok := b.(KeyLister)
	if !ok {
		return nil, fmt.Errorf("list keys: %w", ErrUnsupported)
	}
	return l.ListKeys(ctx, key)
}

// ReadAuditLog calls b's AuditLog if b implements AuditLogReader and fails with
// ErrUnsupported otherwise.
func ReadAuditLog(ctx context.Context, b Backend, key Key, req AuditLogRequest) (AuditLogResult, error) {
	r, ok := b.(AuditLogReader)
	if !ok {
		return AuditLogResult{}, fmt.Errorf("audit log: %w", ErrUnsupported)
	}
	return r.AuditLog(ctx, key, req)
}
