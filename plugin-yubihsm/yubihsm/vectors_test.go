package yubihsm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// These tests check the client alone, against published vectors and the independently
// computed transcript in testdata; the device simulator plays no part.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type exchange struct{ request, response []byte }

// loadTranscript returns the frames of testdata/transcript.txt and its named values.
func loadTranscript(t testing.TB) ([]exchange, map[string][]byte) {
	t.Helper()
	f, err := os.Open("../testdata/transcript.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ex []exchange
	values := map[string][]byte{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, _ := strings.Cut(s.Text(), " ")
		switch name {
		case "command":
			ex = append(ex, exchange{request: unhex(t, value)})
		case "response":
			ex[len(ex)-1].response = unhex(t, value)
		default:
			values[name] = unhex(t, value)
		}
	}
	return ex, values
}

// replay is a Transport that expects exactly the recorded requests.
type replay struct {
	t    testing.TB
	ex   []exchange
	next int
}

func (r *replay) Transceive(_ context.Context, frame []byte) ([]byte, error) {
	r.t.Helper()
	if r.next >= len(r.ex) {
		r.t.Fatalf("unexpected frame %x after the transcript", frame)
	}
	e := r.ex[r.next]
	r.next++
	if !bytes.Equal(frame, e.request) {
		r.t.Fatalf("frame %d: client sent %x\n                  want %x", r.next, frame, e.request)
	}
	return e.response, nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func withZeroChallenge(o *Options) { o.Rand = zeroReader{} }

// TestClientTranscript drives the client through the transcript: published handshake (host
// challenge all zero), then ECHO, PUT_HMAC_KEY, SIGN_HMAC (RFC 4231 case 1), a
// GET_OBJECT_INFO that fails inside the session, CLOSE_SESSION.
func TestClientTranscript(t *testing.T) {
	ex, _ := loadTranscript(t)
	rp := &replay{t: t, ex: ex}
	c, err := NewClient(rp, 1, "password", withZeroChallenge)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := c.Echo(ctx, []byte("abc")); err != nil || string(got) != "abc" {
		t.Fatalf("Echo = %q, %v", got, err)
	}
	id, err := c.PutHMACKey(ctx, ObjectSpec{ID: 0x0010, Label: "rfc4231", Domains: 1, Capabilities: CapSignHMAC}, bytes.Repeat([]byte{0x0b}, 20))
	if err != nil || id != 0x0010 {
		t.Fatalf("PutHMACKey = %#x, %v", id, err)
	}
	tag, err := c.SignHMAC(ctx, 0x0010, []byte("Hi There"))
	if err != nil || hex.EncodeToString(tag) != "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" {
		t.Fatalf("SignHMAC = %x, %v", tag, err)
	}
	_, err = c.GetObjectInfo(ctx, 0x0099, TypeHMACKey)
	var de *DeviceError
	if !errors.As(err, &de) || de.Command != CmdGetObjectInfo || !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("GetObjectInfo of a missing object: %v", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if rp.next != len(ex) {
		t.Fatalf("client sent %d of %d frames", rp.next, len(ex))
	}
}

// TestWrongPasswordStopsAtCryptogram: with the published CREATE_SESSION response and a
// different password, the card cryptogram cannot match; the client must stop there.
func TestWrongPasswordStopsAtCryptogram(t *testing.T) {
	ex, _ := loadTranscript(t)
	rp := &replay{t: t, ex: ex[:1]}
	c, err := NewClient(rp, 1, "not the password", withZeroChallenge)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SignHMAC(context.Background(), 0x10, []byte("x"))
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	if strings.Contains(err.Error(), "not the password") {
		t.Fatal("error text holds the password")
	}
	if rp.next != 1 {
		t.Fatalf("client sent %d frames, want 1 (CREATE_SESSION only)", rp.next)
	}
}

// scripted is a Transport answering from a function.
type scripted func(frame []byte) ([]byte, error)

func (s scripted) Transceive(_ context.Context, frame []byte) ([]byte, error) { return s(frame) }

func TestHandshakeErrors(t *testing.T) {
	ex, _ := loadTranscript(t)
	tests := []struct {
		name     string
		create   []byte
		auth     []byte
		want     error
		wantText string
	}{
		{"auth key missing", []byte{0x7f, 0, 1, 0x0b}, nil, ErrAuthKeyNotFound, "authentication key 0x0001"},
		{"sessions full", []byte{0x7f, 0, 1, 0x05}, nil, ErrSessionsFull, "16 sessions"},
		{"authentication failed", ex[0].response, []byte{0x7f, 0, 1, 0x04}, ErrAuthentication, "wrong password"},
		{"short create response", []byte{0x83, 0, 1, 0}, nil, ErrMalformed, "17"},
		{"data after authenticate", ex[0].response, []byte{0x84, 0, 1, 0}, ErrMalformed, "want none"},
		{"wrong response command", []byte{0x84, 0, 0}, nil, ErrMalformed, "answered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			tr := scripted(func(frame []byte) ([]byte, error) {
				n++
				if frame[0] == 0x03 {
					return tc.create, nil
				}
				return tc.auth, nil
			})
			c, err := NewClient(tr, 1, "password", withZeroChallenge)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Echo(context.Background(), nil)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.wantText)
			}
			if errors.Is(tc.want, ErrAuthentication) == false && errors.Is(err, ErrAuthentication) {
				t.Fatalf("%v also matches ErrAuthentication", err)
			}
		})
	}
}

// TestSessionLostIsNotAuthentication: a clear 04 to a SESSION_MESSAGE means the session is
// gone, not that the password is wrong; the client re-opens once and tries again.
func TestSessionLostIsNotAuthentication(t *testing.T) {
	ex, _ := loadTranscript(t)
	var sent []byte
	tr := scripted(func(frame []byte) ([]byte, error) {
		sent = append(sent, frame[0])
		switch frame[0] {
		case 0x03:
			return ex[0].response, nil
		case 0x04:
			return ex[1].response, nil
		}
		return []byte{0x7f, 0, 1, 0x04}, nil
	})
	c, err := NewClient(tr, 1, "password", withZeroChallenge)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Echo(context.Background(), []byte("abc"))
	if !errors.Is(err, ErrSessionLost) || errors.Is(err, ErrAuthentication) || errors.Is(err, ErrAuthenticationFailed) {
		t.Fatalf("err = %v, want ErrSessionLost only", err)
	}
	// The first session was fresh, so no second try: one handshake, one message.
	if want := []byte{0x03, 0x04, 0x05}; !bytes.Equal(sent, want) {
		t.Fatalf("frames sent %x, want %x", sent, want)
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		data  string
		want  error
	}{
		{"ok", "84 0002 0001", "0001", nil},
		{"empty ok", "84 0000", "", nil},
		{"device error", "7f 0001 0b", "", ErrObjectNotFound},
		{"too short", "027f", "", ErrMalformed},
		{"length beyond frame", "14 0006 007c00ff", "", ErrMalformed},
		{"trailing bytes", "7f 0001 00 01003e", "", ErrMalformed},
		{"error with more data", "7f 0002 0b0b", "", ErrMalformed},
		{"wrong command", "83 0000", "", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResponse(CmdAuthenticateSession, unhex(t, tc.frame))
			if !errors.Is(err, tc.want) || (tc.want == nil && hex.EncodeToString(got) != tc.data) {
				t.Fatalf("ParseResponse = %x, %v; want %s, %v", got, err, tc.data, tc.want)
			}
		})
	}
}

// python-yubihsm tests/test_core.py test_list_objects1: the filter bytes for id 2, type 1,
// domains 0xffff, capabilities 0x003fffffffffffff, algorithm hmac-sha384.
func TestListFilterEncoding(t *testing.T) {
	var got []byte
	for _, f := range []Filter{FilterID(2), FilterType(TypeOpaque), FilterDomains(0xffff),
		FilterCapabilities(0x003fffffffffffff), FilterAlgorithm(AlgHMACSHA384)} {
		got = append(append(got, f.tag), f.value...)
	}
	if want := "0100020201" + "03ffff" + "04003fffffffffffff" + "0515"; hex.EncodeToString(got) != want {
		t.Fatalf("filters = %x, want %s", got, want)
	}
	l, err := FilterLabel("abc")
	if err != nil || l.tag != 6 || len(l.value) != LabelSize || string(l.value[:3]) != "abc" {
		t.Fatalf("label filter %x, %v", l.value, err)
	}
	if _, err := FilterLabel(strings.Repeat("x", LabelSize+1)); err == nil {
		t.Fatal("41-byte label filter accepted")
	}
}

// python-yubihsm test_list_objects2: six objects.
func TestParseObjectList(t *testing.T) {
	b := []byte("\x00\x01\x02\x00d\x8f\x03\x00\x00\x01\x03\x00\x00\x04\x05\x00\x00\x05\x05\x00\x00\x05\x03\x00")
	refs, err := ParseObjectList(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{{1, TypeAuthenticationKey, 0}, {0x648f, TypeAsymmetricKey, 0}, {1, TypeAsymmetricKey, 0},
		{4, TypeHMACKey, 0}, {5, TypeHMACKey, 0}, {5, TypeAsymmetricKey, 0}}
	if fmt.Sprint(refs) != fmt.Sprint(want) {
		t.Fatalf("ParseObjectList = %v, want %v", refs, want)
	}
	if _, err := ParseObjectList(b[:5]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("5 bytes: %v", err)
	}
}

// ObjectInfo layout as python-yubihsm's ObjectInfo.FORMAT "!QHHHBBBB40sQ".
func TestParseObjectInfo(t *testing.T) {
	b := unhex(t, "0000000000400000"+"0010"+"002c"+"0003"+"05"+"14"+"01"+"02"+
		hex.EncodeToString([]byte("aws prod"))+strings.Repeat("00", 32)+"0000000000000001")
	info, err := ParseObjectInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	want := ObjectInfo{Capabilities: CapSignHMAC, ID: 0x10, Size: 44, Domains: 3, Type: TypeHMACKey,
		Algorithm: AlgHMACSHA256, Sequence: 1, Origin: OriginImported, Label: "aws prod", DelegatedCapabilities: CapGetOpaque}
	if info != want {
		t.Fatalf("ParseObjectInfo = %+v\nwant %+v", info, want)
	}
	if !bytes.Equal(info.Marshal(), b) {
		t.Fatalf("Marshal does not round-trip")
	}
	if _, err := ParseObjectInfo(b[:65]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("65 bytes: %v", err)
	}
}

// The PUT_HMAC_KEY header in the transcript was laid out by Python's struct "!H40sHQB".
func TestObjectSpecLayout(t *testing.T) {
	spec := ObjectSpec{ID: 0x0010, Label: "rfc4231", Domains: 1, Capabilities: CapSignHMAC, Algorithm: AlgHMACSHA256}
	b, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "0010" + hex.EncodeToString([]byte("rfc4231")) + strings.Repeat("00", 33) + "0001" + "0000000000400000" + "14"
	if hex.EncodeToString(b) != want {
		t.Fatalf("Marshal = %x\nwant      %s", b, want)
	}
	back, rest, err := ParseObjectSpec(append(b, 0xaa))
	if err != nil || back != spec || !bytes.Equal(rest, []byte{0xaa}) {
		t.Fatalf("ParseObjectSpec = %+v %x %v", back, rest, err)
	}
	if _, err := (ObjectSpec{Label: strings.Repeat("x", 41)}).Marshal(); err == nil {
		t.Fatal("41-byte label accepted")
	}
}

func TestCapabilitiesAndDomains(t *testing.T) {
	// FACTS.md: sign-hmac is 1<<22; python-yubihsm's CAPABILITY list ends at bit 0x2e.
	if CapSignHMAC != 1<<22 || CapDeleteHMACKey != 1<<0x2b || CapAll != 0x00007fffffffffff {
		t.Fatal("capability bits differ from the YubiHSM 2 definitions")
	}
	if s := (CapSignHMAC | CapVerifyHMAC).String(); s != "sign-hmac,verify-hmac" {
		t.Errorf("String = %q", s)
	}
	if s := Capabilities(1 << 60).String(); s != "0x1000000000000000" {
		t.Errorf("unknown bit String = %q", s)
	}
	d, err := DomainSet(1, 2, 16)
	if err != nil || d != 0x8003 || d.String() != "1,2,16" {
		t.Fatalf("DomainSet = %#x %v %q", d, err, d.String())
	}
	if _, err := DomainSet(17); err == nil {
		t.Fatal("domain 17 accepted")
	}
	if MaxHMACData != 2026 {
		t.Fatalf("MaxHMACData = %d", MaxHMACData)
	}
}

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus([]byte("status=OK\nserial=0007550317\nversion=3.0.4\npid=12\naddress=localhost\nport=12345\n"))
	if err != nil || st.Status != "OK" || st.Serial != "0007550317" || st.Version != "3.0.4" || st.Fields["port"] != "12345" {
		t.Fatalf("ParseStatus = %+v, %v", st, err)
	}
	for _, bad := range []string{"", "serial=1\n", "status\n"} {
		if _, err := ParseStatus([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStatus(%q) err = %v", bad, err)
		}
	}
}

func TestNewConnectorURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:12345", "http://127.0.0.1:12345", true},
		{"http://127.0.0.1:12345/", "http://127.0.0.1:12345", true},
		{"http://127.0.0.1:12345/connector/api", "http://127.0.0.1:12345", true},
		{"https://hsm.example/prefix/", "https://hsm.example/prefix", true},
		{"127.0.0.1:12345", "", false},
		{"ftp://host", "", false},
		{"http://user:pw@host", "", false},
		{"http://host?x=1", "", false},
	}
	for _, tc := range tests {
		c, err := NewConnector(tc.in)
		if (err == nil) != tc.ok || (tc.ok && c.URL() != tc.want) {
			t.Errorf("NewConnector(%q) = %v, %v", tc.in, c, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error shows credentials: %v", err)
		}
	}
}

// transcriptKeys are the static keys of the password "password" (K-ENC, K-MAC), given raw
// so that fuzzing does not pay for PBKDF2 on every input.
var transcriptKeys = func() (k scp03.StaticKeys) {
	copy(k.Enc[:], mustHex("090b47dbed595654901dee1cc655e420"))
	copy(k.MAC[:], mustHex("592fd483f759e29909a04c4505d2ce0a"))
	return k
}()

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
