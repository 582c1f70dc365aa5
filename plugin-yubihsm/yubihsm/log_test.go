package yubihsm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// logLine is an entry as yubihsm-shell's "audit get" prints it.
type logLine struct {
	number                  uint16
	cmd                     Command
	length                  uint16
	session, target, second uint16
	result                  byte
	tick                    uint32
	digest                  string
}

func (l logLine) entry(t *testing.T) LogEntry {
	t.Helper()
	d, err := hex.DecodeString(l.digest)
	if err != nil || len(d) != LogDigestSize {
		t.Fatalf("digest %q", l.digest)
	}
	e := LogEntry{Number: l.number, Command: l.cmd, Length: l.length, SessionKey: l.session,
		TargetKey: l.target, SecondKey: l.second, Result: l.result, Tick: l.tick}
	copy(e.Digest[:], d)
	return e
}

// Published audit logs of real devices: every entry must follow the one before it.
var publishedLogs = map[string][]logLine{
	// python-yubihsm tests/test_core.py TestLogCorrect: a boot entry, then CREATE_SESSION.
	"python-yubihsm TestLogCorrect": {
		{2, 0x00, 0, 0xffff, 0, 0, 0, 0, "f696906e5b3929c63ca6f10a83d2a0cc"},
		{3, 0x03, 10, 0xffff, 1, 0xffff, 0x83, 35, "2264d451b5eff5dfa94c544f33b787a9"},
	},
	// Yubico's GET LOG ENTRIES command page, shell example: IMPORT_WRAPPED, PUT_WRAP_KEY, a
	// boot, CREATE_SESSION, AUTHENTICATE_SESSION, SET_LOG_INDEX.
	"Yubico GET LOG ENTRIES example": {
		{46, 0x4b, 234, 0x0001, 0xcf94, 0x997e, 0xcb, 335725, "415f51f1f035a1b713e730e4464e4033"},
		{47, 0x4c, 77, 0x0001, 0xaff7, 0xffff, 0xcc, 351714, "5496a60d478c2b9c801d8d32ca66b554"},
		{48, 0x00, 0, 0xffff, 0x0000, 0x0000, 0x00, 0, "14ac7747ba9bbb243cfc70befeb5349b"},
		{49, 0x03, 10, 0xffff, 0x0001, 0xffff, 0x83, 139, "b20a8f25c025e693a8e869b433294a20"},
		{50, 0x04, 17, 0xffff, 0x0001, 0xffff, 0x84, 139, "ebfae425c319ac7a0afbb8b92597de7c"},
		{51, 0x67, 2, 0x0001, 0xffff, 0xffff, 0xe7, 697, "2e395d1b706668737e1d2215813db47e"},
	},
	// A factory-reset device's log as yubihsm-shell printed it (karalabe's "Publicly
	// auditable YubiHSM logs" gist, and a test in a public Go repository): the reset entry,
	// the boot entry, then SET_OPTION.
	"factory reset, then SET_OPTION": {
		{1, 0xff, 0xffff, 0xffff, 0xffff, 0xffff, 0xff, 0xffffffff, "33012657537e4842f57fa6ed3b09b25b"},
		{2, 0x00, 0, 0xffff, 0x0000, 0x0000, 0x00, 0, "fc153091560e18bca82621522c85bdba"},
		{3, 0x4f, 5, 0x0001, 0xffff, 0xffff, 0xcf, 1987, "3d9380a76ae41826d90daa44c1085a62"},
	},
}

func TestLogChainPublishedVectors(t *testing.T) {
	for name, lines := range publishedLogs {
		t.Run(name, func(t *testing.T) {
			var l LogEntries
			for _, line := range lines {
				l.Entries = append(l.Entries, line.entry(t))
			}
			if err := l.Verify(nil); err != nil {
				t.Fatal(err)
			}
			// Round trip through the wire form.
			parsed, err := ParseLogEntries(l.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed.Entries) != len(l.Entries) {
				t.Fatalf("parsed %d entries", len(parsed.Entries))
			}
			for i := range l.Entries {
				if parsed.Entries[i] != l.Entries[i] {
					t.Fatalf("entry %d: parsed %+v, want %+v", i, parsed.Entries[i], l.Entries[i])
				}
			}
			// Any change to any field of any entry but the first breaks the chain there.
			for i := 1; i < len(l.Entries); i++ {
				for byteIdx := range LogEntrySize {
					wire := l.Marshal()
					wire[5+i*LogEntrySize+byteIdx] ^= 0x10
					bad, err := ParseLogEntries(wire)
					if err != nil {
						t.Fatal(err)
					}
					err = bad.Verify(nil)
					if !errors.Is(err, ErrLogChain) {
						t.Fatalf("entry %d byte %d altered: Verify = %v, want ErrLogChain", i, byteIdx, err)
					}
				}
			}
		})
	}
}

// python-yubihsm's test_logs_after_reset: the first two entries after a factory reset.
func TestResetAndBootEntryLayout(t *testing.T) {
	reset := LogEntry{Number: 1, Command: LogReset, Length: 0xffff, SessionKey: NoKey, TargetKey: NoKey,
		SecondKey: NoKey, Result: 0xff, Tick: 0xffffffff}
	if want := append([]byte{0, 1}, bytes.Repeat([]byte{0xff}, 14)...); !bytes.Equal(reset.Data(), want) {
		t.Errorf("reset entry data %x, want %x", reset.Data(), want)
	}
	boot := LogEntry{Number: 2, Command: LogBoot, SessionKey: NoKey}
	if want, _ := hex.DecodeString(strings.ReplaceAll("0002 00 0000 ffff 0000 0000 00 00000000", " ", "")); !bytes.Equal(boot.Data(), want) {
		t.Errorf("boot entry data %x, want %x", boot.Data(), want)
	}
}

func TestLogFollowsRefusesWrongNumber(t *testing.T) {
	lines := publishedLogs["python-yubihsm TestLogCorrect"]
	a, b := lines[0].entry(t), lines[1].entry(t)
	if err := a.Follows(b); !errors.Is(err, ErrLogChain) {
		t.Fatalf("entries out of order: %v", err)
	}
	if err := b.Follows(a); err != nil {
		t.Fatal(err)
	}
	// Numbers wrap at 16 bits.
	prev := LogEntry{Number: 0xffff}
	next := LogEntry{Number: 0, Command: CmdSignHMAC}
	next.Digest = LogDigest(next.Data(), prev.Digest)
	if err := next.Follows(prev); err != nil {
		t.Fatalf("0xffff -> 0: %v", err)
	}
}

func TestParseLogEntriesMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"short":          {0, 0, 0},
		"count too high": {0, 0, 0, 0, 1},
		"trailing bytes": append([]byte{0, 0, 0, 0, 0}, 1),
	} {
		if _, err := ParseLogEntries(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}
