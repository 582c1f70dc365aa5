package backend

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// TestVaultTimeoutIsUnavailable: a Vault that does not answer within Options.Timeout is
// ErrDeviceUnavailable, not the caller's own deadline (http.Client wraps
// context.DeadlineExceeded in its timeout error), and the request is not repeated.
func TestVaultTimeoutIsUnavailable(t *testing.T) {
	done := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(done)
	b := New(func(o *Options) {
		o.Timeout = 200 * time.Millisecond
		o.Getenv = func(string) string { return "" }
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := b.HMAC(ctx, plugins.Key{URI: "vault:key=k?addr=" + srv.URL, PIN: "hvs.token"}, []byte("20150830"))
	if !errors.Is(err, plugins.ErrDeviceUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("HMAC against a hanging Vault = %v, want ErrDeviceUnavailable and not the caller's deadline", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}
