package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// TestTranscript replays the published handshake and the independently computed session of
// testdata/transcript.txt against the device: every response must match byte for byte.
func TestTranscript(t *testing.T) {
	lines := loadTranscript(t)
	var card []byte
	for _, l := range lines {
		if l.name == "card-challenge" {
			card = unhex(t, l.hex)
		}
	}
	d := newDevice(t, func(o *Options) { o.Rand = &fixedReader{card} })
	var last []byte
	n := 0
	for _, l := range lines {
		switch l.name {
		case "command":
			last = d.Transceive(unhex(t, l.hex))
			n++
		case "response":
			if want := unhex(t, l.hex); !bytes.Equal(last, want) {
				t.Fatalf("frame %d: device answered %x, want %x", n, last, want)
			}
		}
	}
	if n != 7 {
		t.Fatalf("replayed %d frames", n)
	}
	if st := d.Stats(); st.OpenSessions != 0 {
		t.Errorf("%d sessions open after CLOSE_SESSION", st.OpenSessions)
	}
}

// RFC 4231 section 4: HMAC-SHA256 test cases, computed by the device through SIGN_HMAC and
// checked with VERIFY_HMAC. Cases 6 and 7 have 131-byte keys, longer than the device takes:
// their SHA-256 is imported instead, which RFC 2104 section 2 makes equivalent.
func TestSignHMACRFC4231(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cases := []struct {
		name      string
		key, data []byte
		want      string
		truncate  int
	}{
		{"case 1", rep(0x0b, 20), []byte("Hi There"),
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 0},
		{"case 2", []byte("Jefe"), []byte("what do ya want for nothing?"),
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 0},
		{"case 3", rep(0xaa, 20), rep(0xdd, 50),
			"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 0},
		{"case 4", unhex(t, "0102030405060708090a0b0c0d0e0f10111213141516171819"), rep(0xcd, 50),
			"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 0},
		{"case 5 truncated", rep(0x0c, 20), []byte("Test With Truncation"),
			"a3b6167473100ee06e0c796c2955552b", 16},
		{"case 6 long key", rep(0xaa, 131), []byte("Test Using Larger Than Block-Size Key - Hash Key First"),
			"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 0},
		{"case 7 long key and data", rep(0xaa, 131),
			[]byte("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
			"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 0},
	}
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	const signVerify = 1<<22 | 1<<23
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			key := tc.key
			if len(key) > 64 {
				h := sha256.Sum256(key)
				key = h[:]
			}
			id := uint16(0x100 + i)
			out := s.ok(0x52, specBytes(id, tc.name, 1, signVerify, 20), key)
			if !bytes.Equal(out, u16(id)) {
				t.Fatalf("PUT_HMAC_KEY returned %x", out)
			}
			tag := s.ok(0x53, u16(id), tc.data)
			got := hex.EncodeToString(tag)
			if tc.truncate > 0 {
				got = got[:2*tc.truncate]
			}
			if got != tc.want {
				t.Fatalf("SIGN_HMAC = %s, want %s", got, tc.want)
			}
			if v := s.ok(0x5c, u16(id), tag, tc.data); !bytes.Equal(v, []byte{1}) {
				t.Fatalf("VERIFY_HMAC of the right tag = %x", v)
			}
			bad := bytes.Clone(tag)
			bad[0] ^= 1
			if v := s.ok(0x5c, u16(id), bad, tc.data); !bytes.Equal(v, []byte{0}) {
				t.Fatalf("VERIFY_HMAC of a wrong tag = %x", v)
			}
		})
	}
}

func TestClearTextErrors(t *testing.T) {
	d := newDevice(t)
	tests := []struct {
		name  string
		frame []byte
		code  byte
	}{
		{"empty", nil, 0x08},
		{"short", []byte{0x01, 0x00}, 0x08},
		{"length too long", []byte{0x01, 0x00, 0x05, 0x61}, 0x08},
		{"length too short", []byte{0x01, 0x00, 0x00, 0x61}, 0x08},
		{"unknown command", frame(0x7e), 0x01},
		{"session command in clear", frame(0x53, u16(1), []byte("x")), 0x01},
		{"create session short", frame(0x03, u16(1)), 0x08},
		{"create session unknown key", frame(0x03, u16(9), make([]byte, 8)), 0x0b},
		{"authenticate unknown session", frame(0x04, make([]byte, 17)), 0x03},
		{"authenticate session out of range", frame(0x04, []byte{16}, make([]byte, 16)), 0x03},
		{"session message unknown session", frame(0x05, []byte{3}, make([]byte, 24)), 0x03},
		{"oversized frame", frame(0x01, make([]byte, 2046)), 0x08},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rsp := d.Transceive(tc.frame)
			if !bytes.Equal(rsp, []byte{0x7f, 0x00, 0x01, tc.code}) {
				t.Fatalf("response %x, want error 0x%02x", rsp, tc.code)
			}
		})
	}
	if rsp := d.Transceive(frame(0x01, []byte("ping"))); !bytes.Equal(rsp, frame(0x81, []byte("ping"))) {
		t.Errorf("ECHO in clear = %x", rsp)
	}
	if rsp := d.Transceive(frame(0x06)); rsp[0] != 0x86 || !bytes.Equal(rsp[3:6], []byte{2, 4, 0}) {
		t.Errorf("DEVICE_INFO = %x", rsp)
	}
}

func TestWrongPassword(t *testing.T) {
	d := newDevice(t, func(o *Options) { o.Password = "correct horse" })
	if _, code := tryOpenRaw(t, d, 1, "password"); code != 0xff {
		t.Fatalf("open with the wrong password: code 0x%02x, want a card cryptogram mismatch", code)
	}
	// A host that ignores the mismatch and authenticates anyway is refused with 04, and the
	// session slot is freed.
	rsp := d.Transceive(frame(0x03, u16(1), make([]byte, 8)))
	sid := rsp[3]
	if rsp := d.Transceive(frame(0x04, []byte{sid}, make([]byte, 16))); !bytes.Equal(rsp, []byte{0x7f, 0, 1, 0x04}) {
		t.Fatalf("AUTHENTICATE_SESSION with a wrong cryptogram = %x, want error 04", rsp)
	}
	if rsp := d.Transceive(frame(0x04, []byte{sid}, make([]byte, 16))); !bytes.Equal(rsp, []byte{0x7f, 0, 1, 0x03}) {
		t.Fatalf("second AUTHENTICATE_SESSION on the failed session = %x, want error 03", rsp)
	}
	openRaw(t, d, 1, "correct horse")
}

func TestCommandMACChecked(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	sealed, err := s.ch.SealCommand(frame(0x01, []byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 0x01
	if rsp := d.Transceive(bad); !bytes.Equal(rsp, []byte{0x7f, 0, 1, 0x04}) {
		t.Fatalf("forged C-MAC answered %x, want error 04 in clear", rsp)
	}
	bad = bytes.Clone(sealed)
	bad[5] ^= 0x01 // ciphertext
	if rsp := d.Transceive(bad); !bytes.Equal(rsp, []byte{0x7f, 0, 1, 0x04}) {
		t.Fatalf("altered ciphertext answered %x, want error 04 in clear", rsp)
	}
	// The forgeries did not disturb the session.
	rsp := d.Transceive(sealed)
	inner, err := s.ch.OpenResponse(rsp)
	if err != nil || !bytes.Equal(inner, frame(0x81, []byte("abc"))) {
		t.Fatalf("genuine frame after forgeries: %x, %v", inner, err)
	}
}

func TestSessionsFullAndExpiry(t *testing.T) {
	clock := NewManualClock(time.Date(2025, 8, 30, 12, 0, 0, 0, time.UTC))
	d := newDevice(t, func(o *Options) { o.Now = clock.Now })
	var sessions []*rawSession
	for range MaxSessions {
		sessions = append(sessions, openRaw(t, d, 1, DefaultPassword))
	}
	if _, code := tryOpenRaw(t, d, 1, DefaultPassword); code != 0x05 {
		t.Fatalf("17th session: code 0x%02x, want 05 sessions full", code)
	}
	// Idle for 29 s: alive, and using one resets its timer.
	clock.Advance(29 * time.Second)
	sessions[0].ok(0x01, []byte("still here"))
	clock.Advance(2 * time.Second)
	// 31 s for the others: gone. Session 0 was used 2 s ago.
	sessions[0].ok(0x01, []byte("still here"))
	if st := d.Stats(); st.OpenSessions != 1 {
		t.Fatalf("%d sessions open, want 1", st.OpenSessions)
	}
	rcmd, out, clearErr := sessions[1].callClear(0x01, []byte("late"))
	if !clearErr || rcmd != 0x7f || out[0] != 0x03 {
		t.Fatalf("expired session answered 0x%02x %x, want 03 in clear", rcmd, out)
	}
	openRaw(t, d, 1, DefaultPassword)
	// CLOSE_SESSION frees the slot at once.
	sessions[0].ok(0x40)
	if st := d.Stats(); st.OpenSessions != 1 {
		t.Fatalf("%d sessions open after close, want 1", st.OpenSessions)
	}
	d.ExpireSessions()
	if st := d.Stats(); st.OpenSessions != 0 {
		t.Fatalf("%d sessions open after ExpireSessions", st.OpenSessions)
	}
}

func TestPermissionsAndDomains(t *testing.T) {
	d := newDevice(t)
	admin := openRaw(t, d, 1, DefaultPassword)
	const (
		signHMAC    = 1 << 22
		verifyHMAC  = 1 << 23
		putHMAC     = 1 << 20
		deleteHMAC  = 1 << 43
		putAuthKey  = 1 << 2
		exportUnder = 1 << 16
	)
	// An HMAC key in domain 1 and one in domain 2.
	admin.ok(0x52, specBytes(0x10, "d1", 0x0001, signHMAC, 20), []byte("key-one"))
	admin.ok(0x52, specBytes(0x20, "d2", 0x0002, signHMAC, 20), []byte("key-two"))
	// Auth key 2: domain 1 only, may put HMAC keys and verify, may not sign; delegates
	// sign-hmac only.
	admin.ok(0x44, specBytes(2, "limited", 0x0001, putHMAC|verifyHMAC, 38), u64(signHMAC),
		make([]byte, 32)) // K-ENC, K-MAC all zero: opened below with raw keys
	s := openWithKeys(t, d, 2, make([]byte, 32))

	s.fails(0x09, 0x53, u16(0x10), []byte("data"))                                    // session lacks sign-hmac
	s.fails(0x0b, 0x4e, u16(0x20), []byte{5})                                         // other domain: invisible
	s.fails(0x0b, 0x53, u16(0x20), []byte("data"))                                    // same
	s.fails(0x09, 0x52, specBytes(0x30, "x", 0x0002, signHMAC, 20), []byte("k"))      // domain not its own
	s.fails(0x09, 0x52, specBytes(0x30, "x", 0x0001, exportUnder, 20), []byte("k"))   // beyond delegated
	s.fails(0x02, 0x52, specBytes(0x30, "x", 0x0000, signHMAC, 20), []byte("k"))      // no domain
	s.fails(0x02, 0x52, specBytes(0x30, "x", 0x0001, signHMAC, 38), []byte("k"))      // not an HMAC algorithm
	s.fails(0x02, 0x52, specBytes(0x30, "x", 0x0001, signHMAC, 20), make([]byte, 65)) // key too long
	s.fails(0x11, 0x52, specBytes(0x10, "x", 0x0001, signHMAC, 20), []byte("k"))      // exists
	s.fails(0x09, 0x58, u16(0x10), []byte{5})                                         // no delete-hmac-key
	s.fails(0x09, 0x44, specBytes(3, "x", 1, 0, 38), u64(0), make([]byte, 32))        // no put-authentication-key
	s.ok(0x52, specBytes(0x30, "mine", 0x0001, signHMAC, 20), []byte("k"))

	// verify-hmac on the session, but the object has sign-hmac only.
	tag := admin.ok(0x53, u16(0x10), []byte("data"))
	s.fails(0x09, 0x5c, u16(0x10), tag, []byte("data"))

	// The object's own capabilities bind the admin too.
	admin.ok(0x52, specBytes(0x40, "verify-only", 0x0001, verifyHMAC, 20), []byte("k"))
	admin.fails(0x09, 0x53, u16(0x40), []byte("data"))

	// LIST_OBJECTS sees only the session's domains.
	list := s.ok(0x48, []byte{0x02, 0x05})
	if want := append(append(u16(0x10), 5, 0), append(append(u16(0x30), 5, 0), append(u16(0x40), 5, 0)...)...); !bytes.Equal(list, want) {
		t.Fatalf("LIST_OBJECTS type hmac-key = %x, want %x", list, want)
	}
	s.fails(0x02, 0x48, []byte{0x09, 0x00})
	s.fails(0x08, 0x48, []byte{0x01, 0x00})
	if got := admin.ok(0x48, []byte{0x06}, label("d2")); !bytes.Equal(got, append(u16(0x20), 5, 0)) {
		t.Fatalf("LIST_OBJECTS by label = %x", got)
	}
	if got := admin.ok(0x48, []byte{0x01}, u16(1), []byte{0x02, 0x02}); !bytes.Equal(got, append(u16(1), 2, 0)) {
		t.Fatalf("LIST_OBJECTS id 1 type auth key = %x", got)
	}

	// DELETE_OBJECT, then the sequence number moves on when the id is reused.
	admin.ok(0x58, u16(0x10), []byte{5})
	admin.fails(0x0b, 0x58, u16(0x10), []byte{5})
	admin.ok(0x52, specBytes(0x10, "again", 0x0001, signHMAC, 20), []byte("key-one"))
	info := admin.ok(0x4e, u16(0x10), []byte{5})
	if info[16] != 1 {
		t.Errorf("sequence after re-create = %d, want 1", info[16])
	}
}

// openWithKeys opens a session with raw K-ENC || K-MAC rather than a password.
func openWithKeys(t *testing.T, d *Device, keyID uint16, encMac []byte) *rawSession {
	t.Helper()
	var host [8]byte
	rsp := d.Transceive(frame(0x03, u16(keyID), host[:]))
	if rsp[0] != 0x83 {
		t.Fatalf("CREATE_SESSION = %x", rsp)
	}
	s, err := rawWithKeys(t, d, rsp, host, encMac)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGetObjectInfoLayout(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	s.ok(0x52, specBytes(0x0010, "aws prod", 0x0003, 1<<22, 20), bytes.Repeat([]byte{7}, 44))
	got := s.ok(0x4e, u16(0x0010), []byte{5})
	// capabilities | id | size | domains | type | algorithm | sequence | origin | label | delegated
	want := bytes.Join([][]byte{u64(1 << 22), u16(0x0010), u16(44), u16(3), {5, 20, 0, 2}, label("aws prod"), u64(0)}, nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("GET_OBJECT_INFO = %x\nwant              %x", got, want)
	}
	auth := s.ok(0x4e, u16(1), []byte{2})
	if !bytes.Equal(auth[18:18+40], label(FactoryAuthKeyLabel)) || auth[15] != 38 || !bytes.Equal(auth[12:14], []byte{0xff, 0xff}) {
		t.Fatalf("factory auth key info = %x", auth)
	}
}

func TestGenerateHMACKey(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	id := s.ok(0x5a, specBytes(0, "generated", 1, 1<<22|1<<23, 20))
	if len(id) != 2 || bytes.Equal(id, []byte{0, 0}) {
		t.Fatalf("GENERATE_HMAC_KEY id = %x", id)
	}
	info := s.ok(0x4e, id, []byte{5})
	if info[17] != 1 || info[11] != 32 {
		t.Fatalf("generated key info = %x (origin %d, size %d)", info, info[17], info[11])
	}
	tag := s.ok(0x53, id, []byte("m"))
	if v := s.ok(0x5c, id, tag, []byte("m")); v[0] != 1 {
		t.Fatal("VERIFY_HMAC rejects the device's own tag")
	}
	// Importing with id 0 also lets the device choose.
	id2 := s.ok(0x52, specBytes(0, "auto", 1, 1<<22, 20), []byte("k"))
	if bytes.Equal(id2, []byte{0, 0}) {
		t.Fatal("PUT_HMAC_KEY with id 0 returned id 0")
	}
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("m"))
	if tag := s.ok(0x53, id2, []byte("m")); !hmac.Equal(tag, m.Sum(nil)) {
		t.Fatal("SIGN_HMAC disagrees with crypto/hmac")
	}
}

func TestInnerErrors(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	s.fails(0x01, 0x7e)            // unknown command
	s.fails(0x08, 0x53, []byte{0}) // SIGN_HMAC without a full id
	s.fails(0x08, 0x4e, u16(1))    // GET_OBJECT_INFO without type
	s.fails(0x08, 0x40, []byte{1}) // CLOSE_SESSION with data
	s.fails(0x08, 0x44, specBytes(3, "x", 1, 0, 38))
	s.fails(0x0b, 0x53, u16(0x99), []byte("x")) // no such key
	// An inner frame whose length field lies.
	sealed, err := s.ch.SealCommand([]byte{0x01, 0x00, 0x09, 0x61})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := s.ch.OpenResponse(d.Transceive(sealed))
	if err != nil || !bytes.Equal(inner, []byte{0x7f, 0, 1, 0x08}) {
		t.Fatalf("lying inner length: %x, %v", inner, err)
	}
}
