package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testFingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestRouteRoundTrip(t *testing.T) {
	c, _ := testCache(t)
	fp := testFingerprint("credential-process --profile prod")
	if _, ok := c.GetRoute(fp); ok {
		t.Fatal("GetRoute found a route in an empty cache")
	}
	k := testKey()
	k.MFASerial = "arn:aws:iam::123456789012:mfa/alice"
	if err := c.PutRoute(fp, k); err != nil {
		t.Fatal(err)
	}
	got, ok := c.GetRoute(fp)
	if !ok || got != k {
		t.Fatalf("GetRoute = %+v, %v; want %+v", got, ok, k)
	}
	assertMode(t, c.routePath(fp), 0o600)
	if _, ok := c.GetRoute(testFingerprint("another invocation")); ok {
		t.Fatal("another fingerprint found the route")
	}

	// The same route again is not rewritten; another key replaces it.
	before, err := os.Stat(c.routePath(fp))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutRoute(fp, k); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(c.routePath(fp))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("PutRoute rewrote an identical route")
	}
	k2 := k
	k2.Region = "eu-west-1"
	if err := c.PutRoute(fp, k2); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetRoute(fp); got != k2 {
		t.Fatalf("after replacing, GetRoute = %+v, want %+v", got, k2)
	}
}

func TestRouteRefusals(t *testing.T) {
	c, logs := testCache(t)
	fp := testFingerprint("x")
	if err := c.PutRoute("not-a-fingerprint", testKey()); err == nil {
		t.Error("PutRoute took a malformed fingerprint")
	}
	withPIN := testKey()
	withPIN.KeyURI += "?pin-value=1234"
	if err := c.PutRoute(fp, withPIN); err == nil {
		t.Error("PutRoute stored a key URI with pin-value")
	}
	if _, ok := c.GetRoute("../" + fp[3:]); ok {
		t.Error("GetRoute took a path as fingerprint")
	}
	if err := c.PutRoute(fp, testKey()); err != nil {
		t.Fatal(err)
	}
	path := c.routePath(fp)
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T)
		log    string
	}{
		{"readable by others", func(t *testing.T) { chmod(t, path, 0o644) }, "mode 0644"},
		{"symbolic link", func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "route")
			data, _ := os.ReadFile(path)
			if err := os.WriteFile(target, data, 0o600); err != nil {
				t.Fatal(err)
			}
			replace(t, path, func() error { return os.Symlink(target, path) })
		}, "route discarded"},
		{"not JSON", func(t *testing.T) { write(t, path, "{") }, "truncated JSON"},
		{"another version", func(t *testing.T) { write(t, path, `{"version":2,"key":{"duration":"1h0m0s"}}`) }, "format version 2"},
		{"unknown field", func(t *testing.T) { write(t, path, `{"version":1,"key":{"duration":"1h0m0s"},"x":1}`) }, "unknown field"},
		{"bad duration", func(t *testing.T) { write(t, path, `{"version":1,"key":{"duration":"soon"}}`) }, "not a duration"},
		{"pin-value", func(t *testing.T) {
			write(t, path, `{"version":1,"key":{"key_uri":"pkcs11:token=a?pin-value=1","duration":"1h0m0s"}}`)
		}, "pin-value"},
		{"too large", func(t *testing.T) {
			write(t, path, `{"version":1,"key":{"key_uri":"`+strings.Repeat("a", maxRouteSize)+`"}}`)
		}, "route discarded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_(t)
			if k, ok := c.GetRoute(fp); ok {
				t.Fatalf("GetRoute trusted the route: %+v", k)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("the debug log does not say %q:\n%s", tc.log, logs.String())
			}
		})
	}
}

func TestClearRemovesRoutes(t *testing.T) {
	c, _ := testCache(t)
	fp := testFingerprint("y")
	if err := c.PutRoute(fp, testKey()); err != nil {
		t.Fatal(err)
	}
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(c.routePath(fp)); !os.IsNotExist(err) {
		t.Fatalf("route still there after Clear: %v", err)
	}
}

// FuzzReadRoute: whatever a route file holds, reading it neither panics nor yields a key
// that Get would refuse.
func FuzzReadRoute(f *testing.F) {
	f.Add([]byte(`{"version":1,"key":{"key_uri":"pkcs11:token=a;object=b","access_key_id":"AKIDEXAMPLE","role_arn":"","role_session_name":"","external_id":"","duration":"1h0m0s","region":"us-east-1","endpoint":""}}` + "\n"))
	f.Add([]byte(`{"version":1}`))
	c, err := Open(func(o *Options) {
		o.Dir = filepath.Join(f.TempDir(), "awskeep")
		o.Now = func() time.Time { return testNow }
	})
	if err != nil {
		f.Fatal(err)
	}
	fp := testFingerprint("fuzz")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(c.routePath(fp), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if k, ok := c.GetRoute(fp); ok {
			if err := k.validate(); err != nil {
				t.Fatalf("GetRoute returned a key validate refuses: %v", err)
			}
		}
	})
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	replace(t, path, func() error { return os.WriteFile(path, []byte(data), 0o600) })
}

func replace(t *testing.T, path string, create func() error) {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
}
