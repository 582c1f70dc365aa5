package backend_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/backend"
	"github.com/awskeep/awskeep/plugin-yubihsm/sim"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

// The simulator's factory key 1 gets this password, so that nothing passes by accident with
// the well-known default.
const simPassword = "sim password 7"

type simFixture struct {
	dev   *sim.Device
	srv   *sim.Server
	clock *sim.ManualClock
}

func startSim(t *testing.T) *simFixture {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2025, 8, 30, 12, 0, 0, 0, time.UTC))
	dev, err := sim.New(func(o *sim.Options) { o.Password = simPassword; o.Now = clock.Now })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Listen(dev, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// The device configured as docs/audit.md says: SIGN_HMAC and GET_OBJECT_INFO audited
	// (firmware 2.3.1 and later log nothing by default).
	conn, err := yubihsm.NewConnector(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := yubihsm.NewClient(conn, 1, simPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.SetCommandAudit(context.Background(), map[yubihsm.Command]yubihsm.Audit{
		yubihsm.CmdSignHMAC: yubihsm.AuditOn, yubihsm.CmdGetObjectInfo: yubihsm.AuditOn,
	}); err != nil {
		t.Fatal(err)
	}
	admin.Close(context.Background())
	return &simFixture{dev: dev, srv: srv, clock: clock}
}

var nextID atomic.Uint32

func (f *simFixture) key(t *testing.T, query string) plugins.Key {
	id := 0x0100 + nextID.Add(1)
	uri := fmt.Sprintf("yubihsm:object-id=%#04x?connector=%s&auth-key-id=1", id, f.srv.URL)
	if query != "" {
		uri += "&" + query
	}
	return plugins.Key{URI: uri, PIN: simPassword}
}

func (f *simFixture) config(t *testing.T, b plugins.Backend) conformance.Config {
	return conformance.Config{
		Backend:  b,
		NewKey:   func(t *testing.T) plugins.Key { return f.key(t, "") },
		WrongPIN: func(k plugins.Key) plugins.Key { k.PIN = "not " + k.PIN; return k },
	}
}

func TestConformance(t *testing.T) {
	f := startSim(t)
	b := backend.New()
	t.Cleanup(func() { b.Close(context.Background()) })
	conformance.Run(t, f.config(t, b))
}

func TestConformanceOverGRPC(t *testing.T) {
	f := startSim(t)
	bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugin-yubihsm/cmd/awskeep-plugin-yubihsm")
	conformance.Run(t, f.config(t, conformance.LaunchPlugin(t, bin)))
}

func hmacOf(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

var ctx = context.Background()

func TestImportSetsDeviceAttributes(t *testing.T) {
	f := startSim(t)
	b := backend.New()
	key := f.key(t, "domains=1,3&label=prod")
	material := []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	if err := b.ImportKey(ctx, key, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// Ask the device directly, not through the backend.
	conn, _ := yubihsm.NewConnector(f.srv.URL)
	c, err := yubihsm.NewClient(conn, 1, simPassword)
	if err != nil {
		t.Fatal(err)
	}
	id := uint16(0x0100 + nextID.Load())
	info, err := c.GetObjectInfo(ctx, id, yubihsm.TypeHMACKey)
	if err != nil {
		t.Fatal(err)
	}
	if info.Capabilities != yubihsm.CapSignHMAC || info.Domains != 0b101 || info.Label != "prod" ||
		info.Algorithm != yubihsm.AlgHMACSHA256 || info.Size != uint16(len(material)) {
		t.Fatalf("device holds %+v", info)
	}
	d, err := b.DescribeKey(ctx, key)
	if err != nil || !d.Exists || d.Extractable || !d.Sensitive || d.Label != "prod" ||
		d.Algorithm != plugins.AlgorithmHMACSHA256 || d.Attributes["capabilities"] != "sign-hmac" || d.Attributes["domains"] != "1,3" {
		t.Fatalf("DescribeKey = %+v, %v", d, err)
	}
	tag, err := b.HMAC(ctx, key, []byte("20150830"))
	if err != nil || !bytes.Equal(tag, hmacOf(material, []byte("20150830"))) {
		t.Fatalf("HMAC = %x, %v", tag, err)
	}
	// A key made exportable by someone else reports Extractable.
	if _, err := c.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: 0x0fff, Domains: 1,
		Capabilities: yubihsm.CapSignHMAC | yubihsm.CapExportableUnderWrap}, []byte("k")); err != nil {
		t.Fatal(err)
	}
	d, err = b.DescribeKey(ctx, plugins.Key{URI: "yubihsm:object-id=0x0fff?connector=" + f.srv.URL, PIN: simPassword})
	if err != nil || !d.Extractable {
		t.Fatalf("DescribeKey of an exportable key = %+v, %v", d, err)
	}
}

func TestErrors(t *testing.T) {
	f := startSim(t)
	b := backend.New()
	imported := f.key(t, "")
	if err := b.ImportKey(ctx, imported, []byte("AWS4secret"), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	admin, _ := yubihsm.NewConnector(f.srv.URL)
	c, _ := yubihsm.NewClient(admin, 1, simPassword)
	if _, err := c.PutAuthenticationKey(ctx, yubihsm.ObjectSpec{ID: 2, Label: "no sign", Domains: 1,
		Capabilities: yubihsm.CapVerifyHMAC}, 0, "pw2"); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		key  plugins.Key
		msg  []byte
		want error
		text string
	}{
		{"wrong password", plugins.Key{URI: imported.URI, PIN: "guess"}, nil, plugins.ErrPINIncorrect, "refused the password"},
		{"missing key", f.key(t, ""), nil, plugins.ErrKeyNotFound, "object-id"},
		{"auth key without sign-hmac", plugins.Key{URI: strings.Replace(imported.URI, "auth-key-id=1", "auth-key-id=2", 1), PIN: "pw2"},
			nil, plugins.ErrPermissionDenied, "sign-hmac"},
		{"auth key missing", plugins.Key{URI: strings.Replace(imported.URI, "auth-key-id=1", "auth-key-id=9", 1), PIN: "pw"},
			nil, plugins.ErrInvalidKeyURI, "auth-key-id"},
		{"connector down", plugins.Key{URI: "yubihsm:object-id=1?connector=http://" + down, PIN: "pw"},
			nil, plugins.ErrDeviceUnavailable, "yubihsm-connector"},
		{"message too large", imported, make([]byte, yubihsm.MaxHMACData+1), plugins.ErrMessageTooLarge, "2026"},
		{"message over the contract", imported, make([]byte, plugins.MaxMessageSize+1), plugins.ErrMessageTooLarge, "4096"},
		{"bad URI", plugins.Key{URI: "yubihsm:object-id=0"}, nil, plugins.ErrInvalidKeyURI, "object id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.HMAC(ctx, tc.key, tc.msg)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			if tc.key.PIN != "" && strings.Contains(err.Error(), tc.key.PIN) {
				t.Fatalf("error text holds the password: %v", err)
			}
		})
	}
	// One attempt with the wrong password: one CREATE_SESSION, no AUTHENTICATE_SESSION.
	before := f.dev.Stats()
	if _, err := b.HMAC(ctx, plugins.Key{URI: imported.URI, PIN: "guess 2"}, nil); !errors.Is(err, plugins.ErrPINIncorrect) {
		t.Fatal(err)
	}
	after := f.dev.Stats()
	if n := after.Commands[yubihsm.CmdCreateSession] - before.Commands[yubihsm.CmdCreateSession]; n != 1 {
		t.Fatalf("%d CREATE_SESSION for one wrong password", n)
	}
	if n := after.Commands[yubihsm.CmdAuthenticateSession] - before.Commands[yubihsm.CmdAuthenticateSession]; n != 0 {
		t.Fatalf("%d AUTHENTICATE_SESSION for a wrong password", n)
	}
	if err := b.DeleteKey(ctx, f.key(t, "")); !errors.Is(err, plugins.ErrKeyNotFound) {
		t.Fatalf("DeleteKey of a missing key: %v", err)
	}
	if err := b.ImportKey(ctx, imported, []byte("AWS4x"), plugins.ImportOptions{}); !errors.Is(err, plugins.ErrKeyExists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second import: %v", err)
	}
}

func TestDeviceFaults(t *testing.T) {
	f := startSim(t)
	b := backend.New()
	key := f.key(t, "")
	material := []byte("AWS4secret")
	if err := b.ImportKey(ctx, key, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		inject func()
		want   error
	}{
		{"session expired", func() { f.clock.Advance(31 * time.Second) }, nil},
		{"sessions dropped", f.dev.ExpireSessions, nil},
		{"http 500", func() { f.dev.Inject(sim.FaultHTTP500) }, plugins.ErrDeviceUnavailable},
		{"dropped response", func() { f.dev.Inject(sim.FaultDropResponse) }, plugins.ErrDeviceUnavailable},
		{"corrupted response MAC", func() { f.dev.Inject(sim.FaultCorruptResponseMAC) }, plugins.ErrDevice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.inject()
			tag, err := b.HMAC(ctx, key, []byte("m"))
			if tc.want == nil {
				if err != nil || !bytes.Equal(tag, hmacOf(material, []byte("m"))) {
					t.Fatalf("HMAC = %x, %v; want it recovered", tag, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tag, err := b.HMAC(ctx, key, []byte("m")); err != nil || !bytes.Equal(tag, hmacOf(material, []byte("m"))) {
				t.Fatalf("next HMAC = %x, %v", tag, err)
			}
		})
	}
	t.Run("sessions full", func(t *testing.T) {
		f.dev.ExpireSessions()
		for i := 0; i < sim.MaxSessions; i++ {
			conn, _ := yubihsm.NewConnector(f.srv.URL)
			c, _ := yubihsm.NewClient(conn, 1, simPassword)
			if err := c.Open(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_, err := b.HMAC(ctx, key, []byte("m"))
		if !errors.Is(err, plugins.ErrDeviceUnavailable) || !strings.Contains(err.Error(), "16 sessions") {
			t.Fatalf("err = %v, want ErrDeviceUnavailable naming the session limit", err)
		}
	})
}

// BenchmarkHMAC is the backend's HMAC against the simulator over HTTP, session open.
func BenchmarkHMAC(b *testing.B) {
	dev, err := sim.New()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := sim.Listen(dev, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	be := backend.New()
	key := plugins.Key{URI: "yubihsm:object-id=0x0010?connector=" + srv.URL, PIN: sim.DefaultPassword}
	if err := be.ImportKey(ctx, key, []byte("AWS4secret"), plugins.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	msg := []byte("20150830")
	for b.Loop() {
		if _, err := be.HMAC(ctx, key, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// ListKeys names every HMAC-SHA256 key the authentication key can see, by a URI that works
// with the other operations, and leaves out other objects (the authentication key itself,
// an HMAC-SHA1 key).
func TestListKeys(t *testing.T) {
	f := startSim(t)
	b := backend.New()
	t.Cleanup(func() { b.Close(context.Background()) })
	ctx := context.Background()
	for _, k := range []plugins.Key{
		{URI: "yubihsm:object-id=0x0010?connector=" + f.srv.URL + "&label=prod", PIN: simPassword},
		{URI: "yubihsm:object-id=0x0011?connector=" + f.srv.URL + "&domains=2", PIN: simPassword},
	} {
		if err := b.ImportKey(ctx, k, []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), plugins.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	conn, _ := yubihsm.NewConnector(f.srv.URL)
	admin, _ := yubihsm.NewClient(conn, 1, simPassword)
	if _, err := admin.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: 0x12, Label: "sha1", Domains: 1, Capabilities: yubihsm.CapSignHMAC, Algorithm: yubihsm.AlgHMACSHA1}, []byte("k")); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	got, err := b.ListKeys(ctx, plugins.Key{URI: "yubihsm:?connector=" + f.srv.URL + "&auth-key-id=1", PIN: simPassword})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != "prod" || got[1].Label != "awskeep-0011" || got[1].Attributes["domains"] != "2" {
		t.Fatalf("ListKeys = %+v", got)
	}
	if want := "yubihsm:object-id=0x0010?connector=" + f.srv.URL + "&auth-key-id=1"; got[0].URI != want {
		t.Fatalf("URI %q, want %q", got[0].URI, want)
	}
	for _, e := range got {
		if _, err := b.HMAC(ctx, plugins.Key{URI: e.URI, PIN: simPassword}, []byte("20261130")); err != nil {
			t.Fatalf("HMAC with the listed URI %s: %v", e.URI, err)
		}
	}
	if _, err := b.ListKeys(ctx, plugins.Key{URI: "yubihsm:?connector=" + f.srv.URL, PIN: "wrong"}); !errors.Is(err, plugins.ErrPINIncorrect) {
		t.Fatalf("wrong password: %v", err)
	}
}
