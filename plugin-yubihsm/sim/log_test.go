package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// The log's layout and hash chain are checked against published vectors in package yubihsm
// (TestLogChainPublishedVectors); these tests read the simulator's log with that package's
// parser and check what the user guide and python-yubihsm's device tests say it holds.

const testPassword = "password"

func readLog(t *testing.T, s *rawSession) yubihsm.LogEntries {
	t.Helper()
	l, err := yubihsm.ParseLogEntries(s.ok(byte(yubihsm.CmdGetLogEntries)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func setCommandAudit(s *rawSession, pairs ...byte) {
	s.t.Helper()
	s.ok(byte(yubihsm.CmdSetOption), []byte{byte(yubihsm.OptionCommandAudit)}, u16(uint16(len(pairs))), pairs)
}

func putKey(s *rawSession, id uint16) {
	s.t.Helper()
	s.ok(0x52, specBytes(id, "k", 1, uint64(yubihsm.CapSignHMAC), 20), bytes.Repeat([]byte{7}, 44))
}

func logUsed(t *testing.T, d *Device) (size, used byte) {
	t.Helper()
	info, err := yubihsm.ParseDeviceInfo(d.Transceive(frame(0x06))[3:])
	if err != nil {
		t.Fatal(err)
	}
	return info.LogSize, info.LogUsed
}

// python-yubihsm test_logs_after_reset: firmware 2.3.1 and later log nothing by default,
// so a reset device holds the reset entry and the boot entry only.
func TestLogAfterReset(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	s.ok(0x01, []byte("echo is never logged"))
	l := readLog(t, s)
	if len(l.Entries) != 2 || l.UnloggedBoots != 0 || l.UnloggedAuths != 0 {
		t.Fatalf("log after reset: %+v", l)
	}
	if want := append([]byte{0, 1}, bytes.Repeat([]byte{0xff}, 14)...); !bytes.Equal(l.Entries[0].Data(), want) {
		t.Errorf("reset entry %x, want %x", l.Entries[0].Data(), want)
	}
	if want := []byte{0, 2, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0}; !bytes.Equal(l.Entries[1].Data(), want) {
		t.Errorf("boot entry %x, want %x", l.Entries[1].Data(), want)
	}
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
	if size, used := logUsed(t, d); size != 62 || used != 2 {
		t.Errorf("DEVICE_INFO log %d/%d, want 2/62", used, size)
	}
	// A second reset chains its reset entry to the last digest and restarts the numbers.
	last := l.Entries[1]
	d.Reset()
	s = openRaw(t, d, 1, testPassword)
	l = readLog(t, s)
	if len(l.Entries) != 2 || l.Entries[0].Number != 1 {
		t.Fatalf("log after second reset: %+v", l)
	}
	if l.Entries[0].Digest != yubihsm.LogDigest(l.Entries[0].Data(), last.Digest) {
		t.Error("reset entry does not chain to the digest before it")
	}
}

// Each logged command's entry: who, what, how long, on which key, with what result, when.
func TestLogCommandEntries(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	d := newDevice(t, func(o *Options) { o.Now = clock.Now })
	admin := openRaw(t, d, 1, testPassword)
	setCommandAudit(admin, 0x03, 1, 0x04, 1, 0x52, 1, 0x53, 1, 0x40, 1)
	putKey(admin, 0x10)
	clock.Advance(1500 * time.Millisecond)
	s := openRaw(t, d, 1, testPassword)
	clock.Advance(250 * time.Millisecond)
	s.ok(0x53, u16(0x10), []byte("20261130"))
	s.fails(0x0b, 0x53, u16(0x11), []byte("20261130"))
	s.ok(0x01, []byte("not logged"))
	s.ok(0x40)
	l := readLog(t, admin)
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
	got := l.Entries[2:] // after reset and boot
	want := []yubihsm.LogEntry{
		// SET_OPTION itself was not audited when it ran.
		{Number: 3, Command: 0x52, Length: 53 + 44, SessionKey: 1, TargetKey: 0x10, SecondKey: 0xffff, Result: 0xd2, Tick: 0},
		{Number: 4, Command: 0x03, Length: 10, SessionKey: 0xffff, TargetKey: 1, SecondKey: 0xffff, Result: 0x83, Tick: 1500},
		{Number: 5, Command: 0x04, Length: 17, SessionKey: 0xffff, TargetKey: 1, SecondKey: 0xffff, Result: 0x84, Tick: 1500},
		{Number: 6, Command: 0x53, Length: 10, SessionKey: 1, TargetKey: 0x10, SecondKey: 0xffff, Result: 0xd3, Tick: 1750},
		{Number: 7, Command: 0x53, Length: 10, SessionKey: 1, TargetKey: 0x11, SecondKey: 0xffff, Result: 0x7f, Tick: 1750},
		{Number: 8, Command: 0x40, Length: 0, SessionKey: 1, TargetKey: 0xffff, SecondKey: 0xffff, Result: 0xc0, Tick: 1750},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries after boot, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		g.Digest = [16]byte{}
		if g != want[i] {
			t.Errorf("entry %d: %+v, want %+v", want[i].Number, g, want[i])
		}
	}
}

// Without force audit the Log Store is a ring: the oldest entry goes.
func TestLogRing(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	setCommandAudit(s, 0x53, 1)
	putKey(s, 0x10)
	for range 100 {
		s.ok(0x53, u16(0x10), []byte("x"))
	}
	l := readLog(t, s)
	if len(l.Entries) != LogSize {
		t.Fatalf("%d entries, want %d", len(l.Entries), LogSize)
	}
	if first, last := l.Entries[0].Number, l.Entries[LogSize-1].Number; last != 102 || first != 102-LogSize+1 {
		t.Fatalf("entries %d..%d, want %d..102", first, last, 102-LogSize+1)
	}
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
}

// python-yubihsm test_forced_log: with force audit, signing stops with LOG_FULL once the
// Log Store is full, DEVICE_INFO says log used = log size, and releasing the entries with
// SET_LOG_INDEX lets commands run again; the chain continues across the release.
func TestForceAudit(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	putKey(s, 0x10)
	l := readLog(t, s)
	last := l.Entries[len(l.Entries)-1]
	s.ok(0x67, u16(last.Number))
	s.ok(byte(yubihsm.CmdSetOption), []byte{byte(yubihsm.OptionForceAudit)}, u16(1), []byte{1})
	if v := s.ok(byte(yubihsm.CmdGetOption), []byte{byte(yubihsm.OptionForceAudit)}); !bytes.Equal(v, []byte{1}) {
		t.Fatalf("force-audit option = %x", v)
	}
	signed := 0
	for signed < 100 {
		rcmd, out := s.call(0x53, u16(0x10), []byte("x"))
		if rcmd == 0x7f {
			if !bytes.Equal(out, []byte{byte(yubihsm.ErrLogFull)}) {
				t.Fatalf("after %d signings: error %x, want LOG_FULL", signed, out)
			}
			break
		}
		signed++
	}
	// SET_OPTION and GET_OPTION (force audit logs every command) use 2 entries.
	if signed != LogSize-2 {
		t.Fatalf("signed %d times before LOG_FULL, want %d", signed, LogSize-2)
	}
	if size, used := logUsed(t, d); used != size {
		t.Fatalf("DEVICE_INFO log %d/%d, want full", used, size)
	}
	// Sessions can still be opened (counted, not logged), and the log still read.
	openRaw(t, d, 1, testPassword)
	d.Reboot()
	s2 := openRaw(t, d, 1, testPassword)
	l = readLog(t, s2)
	if l.UnloggedAuths != 4 || l.UnloggedBoots != 1 {
		t.Errorf("unlogged auths %d, boots %d; want 4 and 1", l.UnloggedAuths, l.UnloggedBoots)
	}
	if err := l.Verify(&last); err != nil {
		t.Fatalf("chain from the released entry: %v", err)
	}
	newest := l.Entries[len(l.Entries)-1]
	s2.ok(0x67, u16(newest.Number))
	s2.ok(0x53, u16(0x10), []byte("x"))
	l = readLog(t, s2)
	if len(l.Entries) != 2 || l.Entries[0].Command != yubihsm.CmdSetLogIndex || l.Entries[1].Command != yubihsm.CmdSignHMAC {
		t.Fatalf("after release: %+v", l.Entries)
	}
	if l.UnloggedAuths != 0 || l.UnloggedBoots != 0 {
		t.Errorf("counters not cleared by SET_LOG_INDEX: %+v", l)
	}
	if err := l.Verify(&newest); err != nil {
		t.Fatal(err)
	}
}

func TestSetLogIndex(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	s.ok(0x67, u16(1)) // releases the reset entry
	l := readLog(t, s)
	if len(l.Entries) != 1 || l.Entries[0].Number != 2 {
		t.Fatalf("after releasing entry 1: %+v", l.Entries)
	}
	s.ok(0x67, u16(1))             // released already: nothing to do
	s.fails(0x02, 0x67, u16(3))    // not written yet
	s.fails(0x08, 0x67, []byte{0}) // wrong length
	s.ok(0x67, u16(2))             // everything
	if l := readLog(t, s); len(l.Entries) != 0 {
		t.Fatalf("after releasing all: %+v", l.Entries)
	}
}

func TestAuditOptions(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	setCommandAudit(s, 0x53, 2, 0x5c, 1)
	m, err := yubihsm.ParseCommandAudit(s.ok(byte(yubihsm.CmdGetOption), []byte{byte(yubihsm.OptionCommandAudit)}))
	if err != nil {
		t.Fatal(err)
	}
	if m[0x53] != yubihsm.AuditFixed || m[0x5c] != yubihsm.AuditOn || m[0x52] != yubihsm.AuditOff {
		t.Errorf("command-audit: %v", m)
	}
	for _, never := range []yubihsm.Command{yubihsm.CmdEcho, yubihsm.CmdSessionMessage, yubihsm.CmdDeviceInfo, yubihsm.CmdGetLogEntries} {
		if _, listed := m[never]; listed {
			t.Errorf("%v is listed in command-audit", never)
		}
		s.fails(0x02, byte(yubihsm.CmdSetOption), []byte{3}, u16(2), []byte{byte(never), 1})
	}
	s.fails(0x02, byte(yubihsm.CmdSetOption), []byte{3}, u16(2), []byte{0x53, 0}) // fixed
	s.fails(0x02, byte(yubihsm.CmdSetOption), []byte{9}, u16(1), []byte{1})       // no such option
	s.fails(0x08, byte(yubihsm.CmdSetOption), []byte{1}, u16(2), []byte{1})       // length field
	// A factory reset turns even fixed settings off.
	d.Reset()
	s = openRaw(t, d, 1, testPassword)
	m, _ = yubihsm.ParseCommandAudit(s.ok(byte(yubihsm.CmdGetOption), []byte{byte(yubihsm.OptionCommandAudit)}))
	if m[0x53] != yubihsm.AuditOff {
		t.Errorf("after reset: SIGN_HMAC audit %v", m[0x53])
	}
}

func TestLogNeedsCapability(t *testing.T) {
	d := newDevice(t)
	admin := openRaw(t, d, 1, testPassword)
	keys := derive(t, "signer")
	admin.ok(0x44, specBytes(2, "signer", 1, uint64(yubihsm.CapSignHMAC), 38), u64(0), keys.Enc[:], keys.MAC[:])
	s := openRaw(t, d, 2, "signer")
	s.fails(0x09, byte(yubihsm.CmdGetLogEntries))
	s.fails(0x09, byte(yubihsm.CmdSetLogIndex), u16(1))
	s.fails(0x09, byte(yubihsm.CmdSetOption), []byte{1}, u16(1), []byte{0})
	s.fails(0x09, byte(yubihsm.CmdGetOption), []byte{1})
}

func TestTamperLogEntry(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, testPassword)
	setCommandAudit(s, 0x53, 1)
	putKey(s, 0x10)
	for range 5 {
		s.ok(0x53, u16(0x10), []byte("x"))
	}
	if !d.TamperLogEntry(5) || d.TamperLogEntry(99) {
		t.Fatal("TamperLogEntry found the wrong entries")
	}
	err := readLog(t, s).Verify(nil)
	if !errors.Is(err, yubihsm.ErrLogChain) {
		t.Fatalf("Verify = %v, want ErrLogChain", err)
	}
}

func TestOptionsTurnOnAudit(t *testing.T) {
	d := newDevice(t, func(o *Options) {
		o.CommandAudit = []yubihsm.Command{yubihsm.CmdSignHMAC, yubihsm.CmdGetObjectInfo}
		o.ForceAudit = true
	})
	s := openRaw(t, d, 1, testPassword)
	m, _ := yubihsm.ParseCommandAudit(s.ok(byte(yubihsm.CmdGetOption), []byte{byte(yubihsm.OptionCommandAudit)}))
	if m[yubihsm.CmdSignHMAC] != yubihsm.AuditOn || m[yubihsm.CmdGetObjectInfo] != yubihsm.AuditOn || m[yubihsm.CmdPutHMACKey] != yubihsm.AuditOff {
		t.Fatalf("command-audit %v", m)
	}
	if v := s.ok(byte(yubihsm.CmdGetOption), []byte{byte(yubihsm.OptionForceAudit)}); !bytes.Equal(v, []byte{1}) {
		t.Fatalf("force-audit %x", v)
	}
	if _, err := New(func(o *Options) { o.CommandAudit = []yubihsm.Command{yubihsm.CmdEcho} }); err == nil {
		t.Fatal("ECHO accepted for command audit")
	}
}
