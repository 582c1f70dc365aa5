package yubihsm_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/sim"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// Client against the simulator, over real HTTP on a local port.

type fixture struct {
	dev   *sim.Device
	srv   *sim.Server
	conn  *yubihsm.Connector
	clock *sim.ManualClock
}

func start(t testing.TB, password string) *fixture {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2025, 8, 30, 12, 0, 0, 0, time.UTC))
	dev, err := sim.New(func(o *sim.Options) { o.Password = password; o.Now = clock.Now })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Listen(dev, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	conn, err := yubihsm.NewConnector(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dev: dev, srv: srv, conn: conn, clock: clock}
}

func (f *fixture) client(t testing.TB, authKey uint16, password string, optFns ...func(*yubihsm.Options)) *yubihsm.Client {
	t.Helper()
	c, err := yubihsm.NewClient(f.conn, authKey, password, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var ctx = context.Background()

func hmacOf(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func putKey(t testing.TB, c *yubihsm.Client, id uint16, key []byte) {
	t.Helper()
	if _, err := c.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: id, Label: "test", Domains: 1,
		Capabilities: yubihsm.CapSignHMAC | yubihsm.CapVerifyHMAC}, key); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password")
	key := []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	putKey(t, c, 0x0010, key)
	tag, err := c.SignHMAC(ctx, 0x0010, []byte("20150830"))
	if err != nil || !bytes.Equal(tag, hmacOf(key, []byte("20150830"))) {
		t.Fatalf("SignHMAC = %x, %v", tag, err)
	}
	if ok, err := c.VerifyHMAC(ctx, 0x0010, tag, []byte("20150830")); !ok || err != nil {
		t.Fatalf("VerifyHMAC = %v, %v", ok, err)
	}
	if ok, err := c.VerifyHMAC(ctx, 0x0010, tag, []byte("20150831")); ok || err != nil {
		t.Fatalf("VerifyHMAC of another message = %v, %v", ok, err)
	}
	info, err := c.GetObjectInfo(ctx, 0x0010, yubihsm.TypeHMACKey)
	if err != nil || info.Label != "test" || info.Algorithm != yubihsm.AlgHMACSHA256 || info.Size != uint16(len(key)) ||
		info.Capabilities != yubihsm.CapSignHMAC|yubihsm.CapVerifyHMAC || info.Origin != yubihsm.OriginImported {
		t.Fatalf("GetObjectInfo = %+v, %v", info, err)
	}
	refs, err := c.ListObjects(ctx, yubihsm.FilterType(yubihsm.TypeHMACKey))
	if err != nil || len(refs) != 1 || refs[0].ID != 0x0010 {
		t.Fatalf("ListObjects = %v, %v", refs, err)
	}
	// Exactly the largest message one frame can carry, then one byte more.
	big := bytes.Repeat([]byte("x"), yubihsm.MaxHMACData)
	if tag, err := c.SignHMAC(ctx, 0x0010, big); err != nil || !bytes.Equal(tag, hmacOf(key, big)) {
		t.Fatalf("SignHMAC of %d bytes: %v", len(big), err)
	}
	if _, err := c.SignHMAC(ctx, 0x0010, append(big, 'x')); !errors.Is(err, yubihsm.ErrTooLarge) {
		t.Fatalf("SignHMAC of %d bytes: %v, want ErrTooLarge", len(big)+1, err)
	}
	// Generated keys and id 0.
	gid, err := c.GenerateHMACKey(ctx, yubihsm.ObjectSpec{Label: "gen", Domains: 1, Capabilities: yubihsm.CapSignHMAC})
	if err != nil || gid == 0 {
		t.Fatalf("GenerateHMACKey = %#x, %v", gid, err)
	}
	if err := c.DeleteObject(ctx, 0x0010, yubihsm.TypeHMACKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignHMAC(ctx, 0x0010, []byte("x")); !errors.Is(err, yubihsm.ErrObjectNotFound) {
		t.Fatalf("SignHMAC after delete: %v", err)
	}
	if err := c.DeleteObject(ctx, 0x0010, yubihsm.TypeHMACKey); !errors.Is(err, yubihsm.ErrObjectNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// One session served all of it.
	st := f.dev.Stats()
	if st.Commands[yubihsm.CmdCreateSession] != 1 || st.OpenSessions != 1 {
		t.Fatalf("sessions created %d, open %d; want 1, 1", st.Commands[yubihsm.CmdCreateSession], st.OpenSessions)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.dev.Stats(); st.OpenSessions != 0 {
		t.Fatalf("%d sessions open after Close", st.OpenSessions)
	}
	info2, err := c.DeviceInfo(ctx)
	if err != nil || info2.Version != [3]byte{2, 4, 0} {
		t.Fatalf("DeviceInfo = %+v, %v", info2, err)
	}
	status, err := f.conn.Status(ctx)
	if err != nil || status.Status != "OK" {
		t.Fatalf("Status = %+v, %v", status, err)
	}
}

func TestLongKeyIsHashed(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password")
	key := bytes.Repeat([]byte{0xaa}, 131) // RFC 4231 case 6
	putKey(t, c, 0x0011, key)
	tag, err := c.SignHMAC(ctx, 0x0011, []byte("Test Using Larger Than Block-Size Key - Hash Key First"))
	if err != nil || !bytes.Equal(tag, hmacOf(key, []byte("Test Using Larger Than Block-Size Key - Hash Key First"))) {
		t.Fatalf("SignHMAC with a 131-byte key = %x, %v", tag, err)
	}
}

func TestWrongPasswordOneAttempt(t *testing.T) {
	f := start(t, "the real one")
	c := f.client(t, 1, "password")
	_, err := c.SignHMAC(ctx, 0x10, []byte("x"))
	if !errors.Is(err, yubihsm.ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	st := f.dev.Stats()
	if st.Commands[yubihsm.CmdCreateSession] != 1 || st.Commands[yubihsm.CmdAuthenticateSession] != 0 {
		t.Fatalf("CREATE_SESSION %d, AUTHENTICATE_SESSION %d: want one attempt, stopped at the cryptogram",
			st.Commands[yubihsm.CmdCreateSession], st.Commands[yubihsm.CmdAuthenticateSession])
	}
}

func TestAuthKeyWithoutSignHMAC(t *testing.T) {
	f := start(t, "password")
	admin := f.client(t, 1, "password")
	putKey(t, admin, 0x0010, []byte("secret"))
	if _, err := admin.PutAuthenticationKey(ctx, yubihsm.ObjectSpec{ID: 2, Label: "auditor", Domains: 1,
		Capabilities: yubihsm.CapVerifyHMAC}, 0, "auditor password"); err != nil {
		t.Fatal(err)
	}
	auditor := f.client(t, 2, "auditor password")
	if _, err := auditor.SignHMAC(ctx, 0x0010, []byte("x")); !errors.Is(err, yubihsm.ErrInsufficientPermissions) {
		t.Fatalf("err = %v, want ErrInsufficientPermissions", err)
	}
	if _, err := f.client(t, 3, "x").SignHMAC(ctx, 0x10, nil); !errors.Is(err, yubihsm.ErrAuthKeyNotFound) {
		t.Fatalf("missing auth key: %v", err)
	}
	if _, err := admin.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: 0x0010, Domains: 1, Capabilities: yubihsm.CapSignHMAC}, []byte("k")); !errors.Is(err, yubihsm.ErrObjectExists) {
		t.Fatalf("put over an existing key: %v", err)
	}
}

func TestConnectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	conn, err := yubihsm.NewConnector("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := yubihsm.NewClient(conn, 1, "password")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SignHMAC(ctx, 1, []byte("x"))
	var ce *yubihsm.ConnectorError
	if !errors.Is(err, yubihsm.ErrConnector) || !errors.As(err, &ce) || ce.StatusCode != 0 {
		t.Fatalf("err = %v, want a ConnectorError", err)
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "yubihsm-connector running") {
		t.Fatalf("error does not say what to check: %v", err)
	}
}

func TestSessionExpiryRecovered(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password") // real clock: the client cannot see the device's time
	putKey(t, c, 0x0010, []byte("k"))
	f.clock.Advance(31 * time.Second)
	tag, err := c.SignHMAC(ctx, 0x0010, []byte("m"))
	if err != nil || !bytes.Equal(tag, hmacOf([]byte("k"), []byte("m"))) {
		t.Fatalf("SignHMAC after the session expired: %x, %v", tag, err)
	}
	st := f.dev.Stats()
	if st.Errors[yubihsm.ErrInvalidSession] != 1 || st.Commands[yubihsm.CmdCreateSession] != 2 {
		t.Fatalf("INVALID_SESSION %d, CREATE_SESSION %d; want 1 and 2",
			st.Errors[yubihsm.ErrInvalidSession], st.Commands[yubihsm.CmdCreateSession])
	}
	// Forced expiry works the same way.
	f.dev.ExpireSessions()
	if _, err := c.SignHMAC(ctx, 0x0010, []byte("m")); err != nil {
		t.Fatalf("after ExpireSessions: %v", err)
	}
}

func TestIdleSessionRenewedBeforeExpiry(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password", func(o *yubihsm.Options) { o.Now = f.clock.Now })
	putKey(t, c, 0x0010, []byte("k"))
	f.clock.Advance(26 * time.Second)
	if _, err := c.SignHMAC(ctx, 0x0010, []byte("m")); err != nil {
		t.Fatal(err)
	}
	st := f.dev.Stats()
	if st.Errors[yubihsm.ErrInvalidSession] != 0 || st.Commands[yubihsm.CmdCreateSession] != 2 {
		t.Fatalf("INVALID_SESSION %d, CREATE_SESSION %d; want a new session without an error",
			st.Errors[yubihsm.ErrInvalidSession], st.Commands[yubihsm.CmdCreateSession])
	}
}

func TestCorruptedResponseMACRefused(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password")
	putKey(t, c, 0x0010, []byte("k"))
	f.dev.Inject(sim.FaultCorruptResponseMAC)
	_, err := c.SignHMAC(ctx, 0x0010, []byte("m"))
	if !errors.Is(err, yubihsm.ErrResponseMAC) {
		t.Fatalf("err = %v, want ErrResponseMAC", err)
	}
	// The session is discarded; the next call opens a new one and works.
	if _, err := c.SignHMAC(ctx, 0x0010, []byte("m")); err != nil {
		t.Fatalf("after a refused response: %v", err)
	}
	if n := f.dev.Stats().Commands[yubihsm.CmdCreateSession]; n != 2 {
		t.Fatalf("CREATE_SESSION %d, want 2", n)
	}
}

func TestHTTPFaults(t *testing.T) {
	for _, fault := range []sim.Fault{sim.FaultHTTP500, sim.FaultDropRequest, sim.FaultDropResponse} {
		t.Run(fault.String(), func(t *testing.T) {
			f := start(t, "password")
			c := f.client(t, 1, "password")
			putKey(t, c, 0x0010, []byte("k"))
			f.dev.Inject(fault)
			_, err := c.SignHMAC(ctx, 0x0010, []byte("m"))
			if !errors.Is(err, yubihsm.ErrConnector) {
				t.Fatalf("err = %v, want ErrConnector", err)
			}
			var ce *yubihsm.ConnectorError
			if fault == sim.FaultHTTP500 && (!errors.As(err, &ce) || ce.StatusCode != 500) {
				t.Fatalf("err = %v, want HTTP 500", err)
			}
			// Not retried automatically (the command may have run); the next call recovers.
			if tag, err := c.SignHMAC(ctx, 0x0010, []byte("m")); err != nil || !bytes.Equal(tag, hmacOf([]byte("k"), []byte("m"))) {
				t.Fatalf("next call: %x, %v", tag, err)
			}
		})
	}
}

func TestSessionsFull(t *testing.T) {
	f := start(t, "password")
	for i := 0; i < sim.MaxSessions; i++ {
		if err := f.client(t, 1, "password").Open(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.client(t, 1, "password").SignHMAC(ctx, 1, []byte("x"))
	if !errors.Is(err, yubihsm.ErrSessionsFull) || !strings.Contains(err.Error(), "30 s") {
		t.Fatalf("err = %v, want ErrSessionsFull with advice", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password")
	putKey(t, c, 0x0010, []byte("k"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				msg := []byte{byte(g), byte(i)}
				tag, err := c.SignHMAC(ctx, 0x0010, msg)
				if err != nil || !bytes.Equal(tag, hmacOf([]byte("k"), msg)) {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent SignHMAC: %v", err)
	}
	if n := f.dev.Stats().Commands[yubihsm.CmdCreateSession]; n != 1 {
		t.Fatalf("CREATE_SESSION %d, want 1 shared session", n)
	}
}

func TestContextCanceled(t *testing.T) {
	f := start(t, "password")
	c := f.client(t, 1, "password")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SignHMAC(cctx, 1, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := f.conn.Transceive(cctx, []byte{1, 0, 0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Transceive err = %v", err)
	}
}

// BenchmarkSignHMAC measures one SIGN_HMAC round trip in an open session: in process, and
// over HTTP on the loopback.
func BenchmarkSignHMAC(b *testing.B) {
	dev, err := sim.New()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := sim.Listen(dev, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	conn, err := yubihsm.NewConnector(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    yubihsm.Transport
	}{{"in-process", dev.Transport()}, {"http", conn}} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := yubihsm.NewClient(tc.t, 1, sim.DefaultPassword)
			if err != nil {
				b.Fatal(err)
			}
			putKeyOnce(b, c)
			msg := []byte("20150830")
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.SignHMAC(ctx, 0x0010, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func putKeyOnce(b *testing.B, c *yubihsm.Client) {
	_, err := c.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: 0x0010, Label: "bench", Domains: 1, Capabilities: yubihsm.CapSignHMAC}, []byte("k"))
	if err != nil && !errors.Is(err, yubihsm.ErrObjectExists) {
		b.Fatal(err)
	}
}
