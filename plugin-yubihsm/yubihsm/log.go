package yubihsm

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// The audit log (YubiHSM 2 concepts: Logs; commands GET_LOG_ENTRIES and SET_LOG_INDEX).
// The device keeps the last LogSize entries in its Log Store. Each entry's digest is the
// first 16 bytes of SHA-256(entry without its digest || previous entry's digest), so the
// entries form a hash chain that shows an altered, removed or reordered entry.

const (
	// LogSize is how many entries the Log Store holds.
	LogSize = 62
	// LogEntrySize is the size of one entry on the wire.
	LogEntrySize = 32
	// LogDigestSize is the size of an entry's truncated SHA-256 digest.
	LogDigestSize = 16
	// logDataSize is the part of an entry its digest covers.
	logDataSize = LogEntrySize - LogDigestSize
)

// NoKey is the key id an entry names when the command used no key (0xffff), and the session
// key of commands run outside a session (CREATE_SESSION, AUTHENTICATE_SESSION).
const NoKey = 0xffff

// LogEntry is one entry of the Log Store: number (2) | command (1) | length (2) | session
// key (2) | target key (2) | second key (2) | result (1) | tick (4) | digest (16), big endian
// (GET_LOG_ENTRIES; python-yubihsm LogEntry, format "!HBHHHHBL16s").
type LogEntry struct {
	// Number is the entry's sequence number; it wraps from 0xffff to 0.
	Number uint16
	// Command is the command logged; 0x00 marks a boot, 0xff a device reset.
	Command Command
	// Length is the length of the command's data.
	Length uint16
	// SessionKey is the authentication key of the session that sent the command, NoKey
	// outside a session.
	SessionKey uint16
	// TargetKey is the object the command used or made, NoKey if none.
	TargetKey uint16
	// SecondKey is a second object the command used (a wrap key), NoKey if none.
	SecondKey uint16
	// Result is the response's command byte: Command|ResponseFlag on success.
	Result byte
	// Tick is the device's system tick when the command ran; it restarts at 0 at each boot.
	// Yubico does not document its unit.
	Tick uint32
	// Digest is SHA-256(entry data || previous digest), truncated to LogDigestSize.
	Digest [LogDigestSize]byte
}

// Boot and reset entries have these command bytes.
const (
	LogBoot  Command = 0x00
	LogReset Command = 0xff
)

// ParseLogEntry decodes one LogEntrySize-byte entry.
func ParseLogEntry(b []byte) (LogEntry, error) {
	if len(b) != LogEntrySize {
		return LogEntry{}, fmt.Errorf("%w: log entry of %d bytes, want %d", ErrMalformed, len(b), LogEntrySize)
	}
	e := LogEntry{
		Number:     binary.BigEndian.Uint16(b[0:]),
		Command:    Command(b[2]),
		Length:     binary.BigEndian.Uint16(b[3:]),
		SessionKey: binary.BigEndian.Uint16(b[5:]),
		TargetKey:  binary.BigEndian.Uint16(b[7:]),
		SecondKey:  binary.BigEndian.Uint16(b[9:]),
		Result:     b[11],
		Tick:       binary.BigEndian.Uint32(b[12:]),
	}
	copy(e.Digest[:], b[logDataSize:])
	return e, nil
}

// Data is the entry without its digest, what the digest covers.
func (e LogEntry) Data() []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, LogEntrySize), e.Number)
	b = append(b, byte(e.Command))
	b = binary.BigEndian.AppendUint16(b, e.Length)
	b = binary.BigEndian.AppendUint16(b, e.SessionKey)
	b = binary.BigEndian.AppendUint16(b, e.TargetKey)
	b = binary.BigEndian.AppendUint16(b, e.SecondKey)
	b = append(b, e.Result)
	return binary.BigEndian.AppendUint32(b, e.Tick)
}

// Marshal encodes the entry as GET_LOG_ENTRIES sends it.
func (e LogEntry) Marshal() []byte { return append(e.Data(), e.Digest[:]...) }

// LogDigest computes the digest of an entry with data following an entry with digest prev.
func LogDigest(data []byte, prev [LogDigestSize]byte) [LogDigestSize]byte {
	h := sha256.New()
	h.Write(data)
	h.Write(prev[:])
	var d [LogDigestSize]byte
	copy(d[:], h.Sum(nil))
	return d
}

// ErrLogChain is a log entry that does not follow the one before it: its number is not the
// next one, or its digest does not cover its data and the previous digest.
var ErrLogChain = errors.New("yubihsm: audit log hash chain broken")

// Follows checks that e is the entry after prev: the next number and a digest over e's data
// and prev's digest (python-yubihsm LogEntry.validate). Errors match ErrLogChain.
func (e LogEntry) Follows(prev LogEntry) error {
	if e.Number-prev.Number != 1 {
		return fmt.Errorf("%w: entry %d does not follow entry %d", ErrLogChain, e.Number, prev.Number)
	}
	want := LogDigest(e.Data(), prev.Digest)
	if subtle.ConstantTimeCompare(want[:], e.Digest[:]) != 1 {
		return fmt.Errorf("%w: entry %d: digest does not match its contents and entry %d", ErrLogChain, e.Number, prev.Number)
	}
	return nil
}

// LogEntries is a GET_LOG_ENTRIES response.
type LogEntries struct {
	// UnloggedBoots counts boots the device could not log (Log Store full with force audit).
	UnloggedBoots uint16
	// UnloggedAuths counts session authentications it could not log.
	UnloggedAuths uint16
	// Entries are the entries not yet released with SET_LOG_INDEX, oldest first.
	Entries []LogEntry
}

// ParseLogEntries decodes a GET_LOG_ENTRIES response: unlogged boots (2) | unlogged
// authentications (2) | count (1) | count entries of LogEntrySize bytes. It checks the
// layout, not the chain: see [LogEntries.Verify].
func ParseLogEntries(b []byte) (LogEntries, error) {
	if len(b) < 5 {
		return LogEntries{}, fmt.Errorf("%w: GET_LOG_ENTRIES: %d bytes", ErrMalformed, len(b))
	}
	n := int(b[4])
	if len(b) != 5+n*LogEntrySize {
		return LogEntries{}, fmt.Errorf("%w: GET_LOG_ENTRIES: %d entries in %d bytes", ErrMalformed, n, len(b)-5)
	}
	out := LogEntries{UnloggedBoots: binary.BigEndian.Uint16(b), UnloggedAuths: binary.BigEndian.Uint16(b[2:])}
	for i := range n {
		e, _ := ParseLogEntry(b[5+i*LogEntrySize : 5+(i+1)*LogEntrySize])
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

// Marshal encodes l as a GET_LOG_ENTRIES response. It panics with more than 255 entries.
func (l LogEntries) Marshal() []byte {
	b := binary.BigEndian.AppendUint16(nil, l.UnloggedBoots)
	b = binary.BigEndian.AppendUint16(b, l.UnloggedAuths)
	if len(l.Entries) > 255 {
		panic("yubihsm: more than 255 log entries")
	}
	b = append(b, byte(len(l.Entries)))
	for _, e := range l.Entries {
		b = append(b, e.Marshal()...)
	}
	return b
}

// Verify checks the hash chain of the entries, from prev when given (an entry read
// earlier, e.g. the last one a previous read released), else from the first entry, whose
// own digest cannot be checked without its predecessor. Errors match ErrLogChain.
func (l LogEntries) Verify(prev *LogEntry) error {
	for i, e := range l.Entries {
		switch {
		case i > 0:
			prev = &l.Entries[i-1]
		case prev == nil:
			continue
		}
		if err := e.Follows(*prev); err != nil {
			return err
		}
	}
	return nil
}

// GetLogEntries reads the Log Store (GET_LOG_ENTRIES; capability get-log-entries). It does
// not verify the chain: call Verify, with the last entry of an earlier read if there is one.
func (c *Client) GetLogEntries(ctx context.Context) (LogEntries, error) {
	out, err := c.do(ctx, CmdGetLogEntries, nil)
	if err != nil {
		return LogEntries{}, err
	}
	return ParseLogEntries(out)
}

// SetLogIndex releases the entries up to and including number (SET_LOG_INDEX; capability
// get-log-entries), so that a device in force-audit mode whose Log Store is full runs
// commands again. Released entries are no longer returned by GET_LOG_ENTRIES.
func (c *Client) SetLogIndex(ctx context.Context, number uint16) error {
	out, err := c.do(ctx, CmdSetLogIndex, binary.BigEndian.AppendUint16(nil, number))
	if err != nil {
		return err
	}
	if len(out) != 0 {
		return fmt.Errorf("%w: SET_LOG_INDEX: %d bytes of data, want none", ErrMalformed, len(out))
	}
	return nil
}
