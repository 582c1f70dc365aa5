package sim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// These helpers speak to the device with hand-built frames and package scp03 only, not
// with the client in package yubihsm, so the simulator is checked on its own.

type transcriptLine struct{ name, hex string }

func loadTranscript(t testing.TB) []transcriptLine {
	t.Helper()
	f, err := os.Open("../testdata/transcript.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []transcriptLine
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, _ := strings.Cut(s.Text(), " ")
		out = append(out, transcriptLine{name, value})
	}
	return out
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frame(cmd byte, data ...[]byte) []byte {
	body := bytes.Join(data, nil)
	f := []byte{cmd, byte(len(body) >> 8), byte(len(body))}
	return append(f, body...)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func label(s string) []byte {
	b := make([]byte, 40)
	copy(b, s)
	return b
}

// spec is id | label | domains | capabilities | algorithm, as object-creating commands start.
func specBytes(id uint16, lbl string, domains uint16, caps uint64, alg byte) []byte {
	return bytes.Join([][]byte{u16(id), label(lbl), u16(domains), u64(caps), {alg}}, nil)
}

func newDevice(t testing.TB, optFns ...func(*Options)) *Device {
	t.Helper()
	d, err := New(optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rawSession is a host end built from scp03 alone.
type rawSession struct {
	t  testing.TB
	d  *Device
	ch *scp03.Channel
}

// openRaw opens and authenticates a session; it fails the test on any error.
func openRaw(t testing.TB, d *Device, keyID uint16, password string) *rawSession {
	t.Helper()
	s, code := tryOpenRaw(t, d, keyID, password)
	if code != 0 {
		t.Fatalf("open session with key %d: device error 0x%02x", keyID, code)
	}
	return s
}

// tryOpenRaw returns the device's error code instead of failing; 0xff means the card
// cryptogram did not match the password.
func tryOpenRaw(t testing.TB, d *Device, keyID uint16, password string) (*rawSession, byte) {
	t.Helper()
	var host [8]byte
	copy(host[:], "hostchal")
	rsp := d.Transceive(frame(0x03, u16(keyID), host[:]))
	if rsp[0] == 0x7f {
		return nil, rsp[3]
	}
	if rsp[0] != 0x83 || len(rsp) != 3+17 {
		t.Fatalf("CREATE_SESSION response %x", rsp)
	}
	static := derive(t, password)
	var card [8]byte
	copy(card[:], rsp[4:12])
	ctx := scp03.NewContext(host, card)
	keys := scp03.DeriveSessionKeys(static, ctx)
	var got [8]byte
	copy(got[:], rsp[12:20])
	if !scp03.EqualCryptogram(got, keys.CardCryptogram(ctx)) {
		return nil, 0xff
	}
	ch := scp03.NewChannel(rsp[3], keys)
	rsp = d.Transceive(ch.AuthenticateSession(keys.HostCryptogram(ctx)))
	if rsp[0] == 0x7f {
		return nil, rsp[3]
	}
	if !bytes.Equal(rsp, []byte{0x84, 0, 0}) {
		t.Fatalf("AUTHENTICATE_SESSION response %x", rsp)
	}
	return &rawSession{t: t, d: d, ch: ch}, 0
}

// call sends one inner command and returns the inner response's command byte and data. A
// clear-text error comes back as (0x7f, code) with clear true.
func (s *rawSession) call(cmd byte, data ...[]byte) (rcmd byte, out []byte) {
	s.t.Helper()
	rcmd, out, clearErr := s.callClear(cmd, data...)
	if clearErr {
		s.t.Fatalf("command 0x%02x: clear-text error %x", cmd, out)
	}
	return rcmd, out
}

func (s *rawSession) callClear(cmd byte, data ...[]byte) (rcmd byte, out []byte, clearErr bool) {
	s.t.Helper()
	sealed, err := s.ch.SealCommand(frame(cmd, data...))
	if err != nil {
		s.t.Fatal(err)
	}
	rsp := s.d.Transceive(sealed)
	if rsp[0] == 0x7f {
		return 0x7f, rsp[3:], true
	}
	inner, err := s.ch.OpenResponse(rsp)
	if err != nil {
		s.t.Fatalf("command 0x%02x: open response %x: %v", cmd, rsp, err)
	}
	if len(inner) < 3 || int(binary.BigEndian.Uint16(inner[1:])) != len(inner)-3 {
		s.t.Fatalf("command 0x%02x: malformed inner response %x", cmd, inner)
	}
	return inner[0], inner[3:], false
}

// ok sends a command that must succeed and returns its data.
func (s *rawSession) ok(cmd byte, data ...[]byte) []byte {
	s.t.Helper()
	rcmd, out := s.call(cmd, data...)
	if rcmd != cmd|0x80 {
		s.t.Fatalf("command 0x%02x: response 0x%02x %x", cmd, rcmd, out)
	}
	return out
}

// fails sends a command that must fail inside the session with code.
func (s *rawSession) fails(code byte, cmd byte, data ...[]byte) {
	s.t.Helper()
	rcmd, out := s.call(cmd, data...)
	if rcmd != 0x7f || len(out) != 1 || out[0] != code {
		s.t.Fatalf("command 0x%02x: response 0x%02x %x, want error 0x%02x", cmd, rcmd, out, code)
	}
}

var derived sync.Map // password -> scp03.StaticKeys, so fuzzing skips PBKDF2

func derive(t testing.TB, password string) scp03.StaticKeys {
	if k, ok := derived.Load(password); ok {
		return k.(scp03.StaticKeys)
	}
	k, err := scp03.DeriveStaticKeys(password)
	if err != nil {
		t.Fatal(err)
	}
	derived.Store(password, k)
	return k
}

// fixedReader yields b, then zeros.
type fixedReader struct{ b []byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	n := copy(p, r.b)
	r.b = r.b[n:]
	clear(p[n:])
	return len(p), nil
}

var _ io.Reader = (*fixedReader)(nil)

// rawWithKeys finishes a session from a CREATE_SESSION response with raw static keys.
func rawWithKeys(t testing.TB, d *Device, created []byte, host [8]byte, encMac []byte) (*rawSession, error) {
	var static scp03.StaticKeys
	copy(static.Enc[:], encMac[:16])
	copy(static.MAC[:], encMac[16:])
	var card [8]byte
	copy(card[:], created[4:12])
	ctx := scp03.NewContext(host, card)
	keys := scp03.DeriveSessionKeys(static, ctx)
	ch := scp03.NewChannel(created[3], keys)
	rsp := d.Transceive(ch.AuthenticateSession(keys.HostCryptogram(ctx)))
	if !bytes.Equal(rsp, []byte{0x84, 0, 0}) {
		t.Fatalf("AUTHENTICATE_SESSION = %x", rsp)
	}
	return &rawSession{t: t, d: d, ch: ch}, nil
}
