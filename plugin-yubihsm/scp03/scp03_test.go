package scp03

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// RFC 4493 section 4: AES-CMAC test vectors.
func TestCMACRFC4493(t *testing.T) {
	key := "2b7e151628aed2a6abf7158809cf4f3c"
	msg := "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"
	tests := []struct {
		name string
		len  int
		want string
	}{
		{"example 1 empty", 0, "bb1d6929e95937287fa37d129b756746"},
		{"example 2 one block", 16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{"example 3 partial last block", 40, "dfa66747de9ae63030ca32611497c827"},
		{"example 4 four blocks", 64, "51f0bebf7e3b9d92fc49741779363cfe"},
	}
	m := unhex(t, msg)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CMAC(unhex(t, key), m[:tc.len])
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got[:]) != tc.want {
				t.Errorf("CMAC = %x, want %s", got, tc.want)
			}
			// The same through Write in every split, to exercise the held-back last block.
			for split := 0; split <= tc.len; split++ {
				h, _ := NewCMAC(unhex(t, key))
				h.Write(m[:split])
				h.Write(m[split:tc.len])
				if s := hex.EncodeToString(h.Sum(nil)); s != tc.want {
					t.Fatalf("split at %d: CMAC = %s, want %s", split, s, tc.want)
				}
				// Sum must not disturb the state.
				if s := hex.EncodeToString(h.Sum(nil)); s != tc.want {
					t.Fatalf("second Sum = %s, want %s", s, tc.want)
				}
			}
		})
	}
}

func TestCMACBadKey(t *testing.T) {
	if _, err := CMAC(make([]byte, 15), nil); err == nil {
		t.Fatal("CMAC with a 15-byte key succeeded")
	}
}

// FACTS.md / python-yubihsm: the factory password "password" derives these keys.
func TestDeriveStaticKeys(t *testing.T) {
	k, err := DeriveStaticKeys("password")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(k.Enc[:]); got != "090b47dbed595654901dee1cc655e420" {
		t.Errorf("K-ENC = %s", got)
	}
	if got := hex.EncodeToString(k.MAC[:]); got != "592fd483f759e29909a04c4505d2ce0a" {
		t.Errorf("K-MAC = %s", got)
	}
	other, err := DeriveStaticKeys("Password")
	if err != nil {
		t.Fatal(err)
	}
	if k.Equal(other) || !k.Equal(k) {
		t.Error("Equal does not tell keys apart")
	}
}

// python-yubihsm tests/test_core.py TestDeriveFct: an AES-256 key, constant 4, 8-byte context.
func TestKDFVector(t *testing.T) {
	got, err := KDF([]byte("0xff0xff0x120xff0xff0xff0xff0xaf"), ConstSENC, unhex(t, "0cf4f54cb9df595b"), 128)
	if err != nil {
		t.Fatal(err)
	}
	if want := "57a07f31b913bce5ff06364a0e39467a"; hex.EncodeToString(got) != want {
		t.Errorf("KDF = %x, want %s", got, want)
	}
}

func TestKDFLengths(t *testing.T) {
	key := make([]byte, 16)
	tests := []struct {
		name string
		bits int
		ok   bool
	}{
		{"64", 64, true}, {"128", 128, true}, {"256 two blocks", 256, true},
		{"zero", 0, false}, {"not bytes", 12, false}, {"negative", -8, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := KDF(key, 1, nil, tc.bits)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && len(out) != tc.bits/8 {
				t.Errorf("len = %d", len(out))
			}
		})
	}
	// The 64-bit output is not the prefix of the 128-bit one: L is part of the input.
	a, _ := KDF(key, 1, nil, 64)
	b, _ := KDF(key, 1, nil, 128)
	if bytes.Equal(a, b[:8]) {
		t.Error("KDF ignores the output length")
	}
}

func TestPad(t *testing.T) {
	tests := []struct {
		in, out string
	}{
		{"", "80000000000000000000000000000000"},
		{"010003616263", "01000361626380000000000000000000"},
		{"000102030405060708090a0b0c0d0e", "000102030405060708090a0b0c0d0e80"},
		{"000102030405060708090a0b0c0d0e0f", "000102030405060708090a0b0c0d0e0f80000000000000000000000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p := Pad(unhex(t, tc.in))
			if hex.EncodeToString(p) != tc.out {
				t.Fatalf("Pad = %x, want %s", p, tc.out)
			}
			u, err := Unpad(p)
			if err != nil || hex.EncodeToString(u) != tc.in {
				t.Fatalf("Unpad = %x, %v", u, err)
			}
		})
	}
}

func TestUnpadRejects(t *testing.T) {
	tests := map[string]string{
		"empty":            "",
		"not a block":      "0180",
		"all zero":         "00000000000000000000000000000000",
		"no marker":        "01000000000000000000000000000001",
		"marker too early": "80000000000000000000000000000000" + "00000000000000000000000000000000",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Unpad(unhex(t, in)); !errors.Is(err, ErrPadding) {
				t.Fatalf("Unpad(%s) err = %v, want ErrPadding", in, err)
			}
		})
	}
}

// transcript is testdata/transcript.txt: the published handshake vector followed by a
// session computed independently (testdata/gen_transcript.py, Python "cryptography").
type transcript struct {
	values   map[string][]byte
	commands [][]byte
	replies  [][]byte
	inner    [][]byte // inner commands
	innerRsp [][]byte // inner responses
}

func loadTranscript(t testing.TB) transcript {
	t.Helper()
	f, err := os.Open("../testdata/transcript.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := transcript{values: map[string][]byte{}}
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, _ := strings.Cut(s.Text(), " ")
		b := unhex(t, value)
		switch name {
		case "command":
			tr.commands = append(tr.commands, b)
		case "response":
			tr.replies = append(tr.replies, b)
		case "inner-command":
			tr.inner = append(tr.inner, b)
		case "inner-response":
			tr.innerRsp = append(tr.innerRsp, b)
		default:
			tr.values[name] = b
		}
	}
	return tr
}

func transcriptKeys(t testing.TB, tr transcript) (SessionKeys, Context) {
	var host, card [ChallengeSize]byte
	copy(host[:], tr.values["host-challenge"])
	copy(card[:], tr.values["card-challenge"])
	k, err := DeriveStaticKeys(string(tr.values["password"]))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(host, card)
	return DeriveSessionKeys(k, ctx), ctx
}

func TestHandshakeVector(t *testing.T) {
	tr := loadTranscript(t)
	keys, ctx := transcriptKeys(t, tr)
	for name, got := range map[string][]byte{"s-enc": keys.Enc[:], "s-mac": keys.MAC[:], "s-rmac": keys.RMAC[:]} {
		if !bytes.Equal(got, tr.values[name]) {
			t.Errorf("%s = %x, want %x", name, got, tr.values[name])
		}
	}
	// Published: card cryptogram 3225ed8a3224f2cf in the CREATE_SESSION response, and the
	// AUTHENTICATE_SESSION frame 040011 00 1ce7552e0f7976db cc2198fd155c335a.
	card := keys.CardCryptogram(ctx)
	if hex.EncodeToString(card[:]) != "3225ed8a3224f2cf" {
		t.Errorf("card cryptogram = %x", card)
	}
	host := NewChannel(0, keys)
	auth := host.AuthenticateSession(keys.HostCryptogram(ctx))
	if hex.EncodeToString(auth) != "040011001ce7552e0f7976dbcc2198fd155c335a" {
		t.Errorf("AUTHENTICATE_SESSION = %x", auth)
	}
	dev := NewChannel(0, keys)
	if err := dev.VerifyAuthenticateSession(auth, keys.HostCryptogram(ctx)); err != nil {
		t.Fatalf("device rejects the published frame: %v", err)
	}
	for i := range auth {
		bad := bytes.Clone(auth)
		bad[i] ^= 0x01
		if err := NewChannel(0, keys).VerifyAuthenticateSession(bad, keys.HostCryptogram(ctx)); err == nil {
			t.Errorf("device accepts the frame with byte %d flipped", i)
		}
	}
}

// TestSessionTranscript runs both ends of the channel over the independently computed
// session and checks every byte.
func TestSessionTranscript(t *testing.T) {
	tr := loadTranscript(t)
	keys, ctx := transcriptKeys(t, tr)
	host, dev := NewChannel(0, keys), NewChannel(0, keys)
	auth := host.AuthenticateSession(keys.HostCryptogram(ctx))
	if err := dev.VerifyAuthenticateSession(auth, keys.HostCryptogram(ctx)); err != nil {
		t.Fatal(err)
	}
	for i, inner := range tr.inner {
		cmd, rsp := tr.commands[2+i], tr.replies[2+i]
		sealed, err := host.SealCommand(inner)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sealed, cmd) {
			t.Fatalf("message %d: host sealed %x, want %x", i+1, sealed, cmd)
		}
		opened, err := dev.OpenCommand(cmd)
		if err != nil || !bytes.Equal(opened, inner) {
			t.Fatalf("message %d: device opened %x, %v", i+1, opened, err)
		}
		reply, err := dev.SealResponse(tr.innerRsp[i])
		if err != nil || !bytes.Equal(reply, rsp) {
			t.Fatalf("message %d: device sealed %x, %v; want %x", i+1, reply, err, rsp)
		}
		got, err := host.OpenResponse(rsp)
		if err != nil || !bytes.Equal(got, tr.innerRsp[i]) {
			t.Fatalf("message %d: host opened %x, %v", i+1, got, err)
		}
		if host.Counter() != uint64(i+2) || dev.Counter() != uint64(i+2) {
			t.Fatalf("counters %d/%d after message %d", host.Counter(), dev.Counter(), i+1)
		}
	}
}

// TestTamperedResponse flips every bit of a response: the host must refuse each one.
func TestTamperedResponse(t *testing.T) {
	tr := loadTranscript(t)
	keys, ctx := transcriptKeys(t, tr)
	rsp := tr.replies[2]
	for i := range rsp {
		for bit := 0; bit < 8; bit++ {
			host := NewChannel(0, keys)
			host.AuthenticateSession(keys.HostCryptogram(ctx))
			if _, err := host.SealCommand(tr.inner[0]); err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(rsp)
			bad[i] ^= 1 << bit
			if _, err := host.OpenResponse(bad); err == nil {
				t.Fatalf("accepted response with byte %d bit %d flipped", i, bit)
			} else if i >= 4 && !errors.Is(err, ErrMAC) {
				t.Fatalf("byte %d: err = %v, want ErrMAC", i, err)
			}
		}
	}
}

func TestTamperedCommandLeavesDeviceState(t *testing.T) {
	tr := loadTranscript(t)
	keys, ctx := transcriptKeys(t, tr)
	dev := NewChannel(0, keys)
	if err := dev.VerifyAuthenticateSession(tr.commands[1], keys.HostCryptogram(ctx)); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(tr.commands[2])
	bad[len(bad)-1] ^= 0x80
	if _, err := dev.OpenCommand(bad); !errors.Is(err, ErrMAC) {
		t.Fatalf("err = %v, want ErrMAC", err)
	}
	// The genuine frame still verifies: the failed one changed nothing.
	if got, err := dev.OpenCommand(tr.commands[2]); err != nil || !bytes.Equal(got, tr.inner[0]) {
		t.Fatalf("genuine frame after a forged one: %x, %v", got, err)
	}
}

func TestOutOfOrder(t *testing.T) {
	keys := SessionKeys{}
	c := NewChannel(3, keys)
	if _, err := c.SealCommand([]byte{1, 0, 0}); !errors.Is(err, ErrState) {
		t.Errorf("SealCommand before authentication: %v", err)
	}
	if _, err := c.OpenResponse(make([]byte, 28)); !errors.Is(err, ErrState) {
		t.Errorf("OpenResponse with nothing in flight: %v", err)
	}
	if _, err := c.SealResponse(nil); !errors.Is(err, ErrState) {
		t.Errorf("SealResponse with nothing in flight: %v", err)
	}
}

func TestFrameLimit(t *testing.T) {
	c := NewChannel(0, SessionKeys{})
	c.AuthenticateSession([CryptogramSize]byte{})
	// 3 + 1 + 2032 + 8 = 2044 fits; one more byte of inner data needs another block.
	if _, err := c.SealCommand(make([]byte, 2031)); err != nil {
		t.Fatalf("2031-byte inner frame: %v", err)
	}
	c.inFlight = false
	if _, err := c.SealCommand(make([]byte, 2032)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2032-byte inner frame: %v, want ErrTooLarge", err)
	}
}
