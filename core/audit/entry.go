package audit

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// EntrySize is the size of one log entry in the device's encoding, DigestSize that of its
// digest.
const (
	EntrySize  = 32
	DigestSize = 16
)

// Command bytes the report names (YubiHSM 2 command reference).
const (
	CmdBoot          = 0x00
	CmdReset         = 0xff
	CmdGetObjectInfo = 0x4e
	CmdSignHMAC      = 0x53
	// resultFlag is set in Result when the command succeeded (Result = Command|0x80).
	resultFlag = 0x80
	// NoKey is the key id of an entry that names no key.
	NoKey = 0xffff
)

// Entry is one YubiHSM 2 log entry: number (2) | command (1) | length (2) | session key (2) |
// target key (2) | second key (2) | result (1) | tick (4) | digest (16), big endian.
type Entry struct {
	Number     uint16
	Command    byte
	Length     uint16
	SessionKey uint16
	TargetKey  uint16
	SecondKey  uint16
	Result     byte
	Tick       uint32
	Digest     [DigestSize]byte
}

// ErrMalformed is an entry that is not EntrySize bytes.
var ErrMalformed = errors.New("audit: malformed log entry")

// ParseEntry decodes an entry from the device's encoding.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) != EntrySize {
		return Entry{}, fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(b), EntrySize)
	}
	e := Entry{
		Number: binary.BigEndian.Uint16(b), Command: b[2], Length: binary.BigEndian.Uint16(b[3:]),
		SessionKey: binary.BigEndian.Uint16(b[5:]), TargetKey: binary.BigEndian.Uint16(b[7:]),
		SecondKey: binary.BigEndian.Uint16(b[9:]), Result: b[11], Tick: binary.BigEndian.Uint32(b[12:]),
	}
	copy(e.Digest[:], b[16:])
	return e, nil
}

// Bytes encodes the entry as the device does.
func (e Entry) Bytes() []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, EntrySize), e.Number)
	b = append(b, e.Command)
	b = binary.BigEndian.AppendUint16(b, e.Length)
	b = binary.BigEndian.AppendUint16(b, e.SessionKey)
	b = binary.BigEndian.AppendUint16(b, e.TargetKey)
	b = binary.BigEndian.AppendUint16(b, e.SecondKey)
	b = append(b, e.Result)
	b = binary.BigEndian.AppendUint32(b, e.Tick)
	return append(b, e.Digest[:]...)
}

// Link computes the digest an entry with these first 16 bytes has after an entry with
// digest prev: SHA-256(data || prev), truncated to DigestSize.
func Link(data []byte, prev [DigestSize]byte) [DigestSize]byte {
	h := sha256.New()
	h.Write(data)
	h.Write(prev[:])
	var d [DigestSize]byte
	copy(d[:], h.Sum(nil))
	return d
}

// follows reports whether e is the entry after one with number n and digest d.
func (e Entry) follows(n uint16, d [DigestSize]byte) bool {
	want := Link(e.Bytes()[:EntrySize-DigestSize], d)
	return e.Number == n+1 && subtle.ConstantTimeCompare(want[:], e.Digest[:]) == 1
}

// OK reports whether the logged command succeeded.
func (e Entry) OK() bool { return e.Result == e.Command|resultFlag }

// CommandName names the entry's command, e.g. "SIGN_HMAC".
func (e Entry) CommandName() string {
	if n, ok := commandNames[e.Command]; ok {
		return n
	}
	return fmt.Sprintf("command 0x%02x", e.Command)
}

var commandNames = map[byte]string{
	CmdBoot: "BOOT", CmdReset: "RESET", 0x03: "CREATE_SESSION", 0x04: "AUTHENTICATE_SESSION",
	0x08: "RESET_DEVICE", 0x40: "CLOSE_SESSION", 0x44: "PUT_AUTHENTICATION_KEY", 0x48: "LIST_OBJECTS",
	0x4a: "EXPORT_WRAPPED", 0x4b: "IMPORT_WRAPPED", 0x4c: "PUT_WRAP_KEY", CmdGetObjectInfo: "GET_OBJECT_INFO",
	0x4f: "SET_OPTION", 0x50: "GET_OPTION", 0x51: "GET_PSEUDO_RANDOM", 0x52: "PUT_HMAC_KEY",
	CmdSignHMAC: "SIGN_HMAC", 0x58: "DELETE_OBJECT", 0x5a: "GENERATE_HMAC_KEY", 0x5c: "VERIFY_HMAC",
	0x67: "SET_LOG_INDEX", 0x6c: "CHANGE_AUTHENTICATION_KEY",
}
