package plugins_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

var contractErrors = []error{
	plugins.ErrKeyNotFound, plugins.ErrPINIncorrect, plugins.ErrPINLocked, plugins.ErrDeviceUnavailable,
	plugins.ErrKeyExists, plugins.ErrAmbiguousKey, plugins.ErrUnsupported, plugins.ErrInvalidKeyURI,
	plugins.ErrPermissionDenied, plugins.ErrMessageTooLarge, plugins.ErrDevice,
}

// wrapped lists the contract sentinels err wraps.
func wrapped(err error) []error {
	var out []error
	for _, s := range contractErrors {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

// hangingServer answers no request until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// resetConn returns the error of reading from a connection the server reset (RST).
func resetConn(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*net.TCPConn).SetLinger(0) // close with RST
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err // the reset can come before connect returns
	}
	defer c.Close()
	<-accepted
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err
}

// permissionError returns a real EACCES from the file system.
func permissionError(t *testing.T) error {
	if os.Geteuid() == 0 {
		if runtime.GOOS != "linux" {
			t.Fatalf("run this test as a user other than root on %s (root ignores file modes)", runtime.GOOS)
		}
		// sysfs refuses to create files, even for root.
		_, err := os.OpenFile("/sys/awskeep-test", os.O_CREATE|os.O_WRONLY, 0o600)
		return err
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err := os.Create(filepath.Join(dir, "f"))
	return err
}

func TestWrapSystemError(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	hanging := hangingServer(t)

	tests := []struct {
		name string
		err  func(t *testing.T, ctx context.Context) error
		// want is the one sentinel the result wraps, or a context error.
		want     error
		wantText string
	}{
		{"connection refused", func(t *testing.T, ctx context.Context) error {
			_, err := (&net.Dialer{}).DialContext(ctx, "tcp", refusedAddr(t))
			return err
		}, plugins.ErrDeviceUnavailable, "connection refused: device unavailable"},
		{"connection reset", func(t *testing.T, ctx context.Context) error {
			return resetConn(t)
		}, plugins.ErrDeviceUnavailable, "connection reset by peer: device unavailable"},
		{"no such host", func(t *testing.T, ctx context.Context) error {
			_, err := net.DefaultResolver.LookupHost(ctx, "awskeep-test.invalid") // RFC 6761: never resolves
			return err
		}, plugins.ErrDeviceUnavailable, "awskeep-test.invalid"},
		{"server certificate not trusted", func(t *testing.T, ctx context.Context) error {
			_, err := http.Get(tlsSrv.URL)
			return err
		}, plugins.ErrDeviceUnavailable, "certificate"},
		{"the backend's own timeout", func(t *testing.T, ctx context.Context) error {
			_, err := (&http.Client{Timeout: 50 * time.Millisecond}).Get(hanging.URL)
			return err
		}, plugins.ErrDeviceUnavailable, "Client.Timeout exceeded"},
		{"a read deadline", func(t *testing.T, ctx context.Context) error {
			c, err := net.Dial("tcp", strings.TrimPrefix(hanging.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err = c.Read(make([]byte, 1))
			return err
		}, plugins.ErrDeviceUnavailable, "i/o timeout: device unavailable"},
		{"permission denied", func(t *testing.T, ctx context.Context) error {
			return permissionError(t)
		}, plugins.ErrPermissionDenied, "permission denied: permission denied"},
		{"file not found is the backend's to judge", func(t *testing.T, ctx context.Context) error {
			_, err := os.Open(filepath.Join(t.TempDir(), "missing.keyset"))
			return err
		}, plugins.ErrDevice, "no such file or directory: device error"},
		{"already a contract error", func(t *testing.T, ctx context.Context) error {
			return plugins.MissingPIN("test", "", "key k")
		}, plugins.ErrPINIncorrect, "test: key k needs a PIN"},
		{"anything else", func(t *testing.T, ctx context.Context) error {
			return errors.New("the connector said 0x7f")
		}, plugins.ErrDevice, "the connector said 0x7f: device error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cause := tt.err(t, ctx)
			if cause == nil {
				t.Fatal("the operation did not fail")
			}
			got := plugins.WrapSystemError(ctx, "test: op", cause)
			if ws := wrapped(got); len(ws) != 1 || ws[0] != tt.want {
				t.Fatalf("WrapSystemError(%v) = %v wraps %v, want exactly %v", cause, got, ws, tt.want)
			}
			if errors.Is(got, context.DeadlineExceeded) || errors.Is(got, context.Canceled) {
				t.Fatalf("WrapSystemError(%v) = %v looks like the caller's context ending to the host", cause, got)
			}
			if !strings.HasPrefix(got.Error(), "test: op: ") || !strings.Contains(got.Error(), tt.wantText) {
				t.Fatalf("WrapSystemError(%v) = %q, want it to start with the prefix and say %q", cause, got, tt.wantText)
			}
			if s := plugins.SystemSentinel(cause); tt.want != plugins.ErrDevice && s != tt.want {
				t.Fatalf("SystemSentinel(%v) = %v, want %v", cause, s, tt.want)
			}
		})
	}
}

// TestWrapSystemErrorContext checks that the caller's own deadline or cancellation comes
// back as itself, whatever the network error it caused, and never as a device fault.
func TestWrapSystemErrorContext(t *testing.T) {
	hanging := hangingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hanging.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, cause := http.DefaultClient.Do(req)
	got := plugins.WrapSystemError(ctx, "test: op", cause)
	if !errors.Is(got, context.DeadlineExceeded) || len(wrapped(got)) != 0 {
		t.Fatalf("after the caller's deadline: %v, want context.DeadlineExceeded and no sentinel", got)
	}

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, cause = (&net.Dialer{}).DialContext(cancelled, "tcp", refusedAddr(t))
	got = plugins.WrapSystemError(cancelled, "test: op", cause)
	if !errors.Is(got, context.Canceled) || len(wrapped(got)) != 0 {
		t.Fatalf("after cancellation: %v, want context.Canceled and no sentinel", got)
	}

	if got := plugins.WrapSystemError(context.Background(), "test: op", nil); got != nil {
		t.Fatalf("WrapSystemError(nil) = %v", got)
	}
	if got := plugins.SystemSentinel(nil); got != nil {
		t.Fatalf("SystemSentinel(nil) = %v", got)
	}
}

func TestMissingPIN(t *testing.T) {
	err := plugins.MissingPIN("vault", "Vault token", "key prod")
	if !errors.Is(err, plugins.ErrPINIncorrect) {
		t.Fatalf("MissingPIN does not wrap ErrPINIncorrect: %v", err)
	}
	const want = "vault: key prod needs a Vault token and none was given: set pin-source= in the key URI or $AWSKEEP_PIN"
	if err.Error() != want {
		t.Fatalf("MissingPIN = %q, want %q", err, want)
	}
	var mp *plugins.MissingPINError
	if !errors.As(err, &mp) || mp.Secret != "Vault token" {
		t.Fatalf("errors.As *MissingPINError: %#v", mp)
	}
	if got := plugins.MissingPIN("example", "", "key a").Error(); !strings.Contains(got, "needs a PIN") {
		t.Fatalf("default secret: %q", got)
	}
}
