package sts_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/core/sts"
)

// TestHangingDeviceIsNotBlamedOnSTS: a device that never answers runs into the deadline
// while signing; the request never leaves, so the error is the device's, not STS's, even
// though the SDK reports only the context's error.
func TestHangingDeviceIsNotBlamedOnSTS(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The plugin's own gRPC deadline fires a moment before the caller's context ends (as it
	// does through a real plugin): the SDK then retries, and its retry delay, cut short by
	// the context, is the error it reports.
	deadline, _ := ctx.Deadline()
	hang := sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		select {
		case <-time.After(time.Until(deadline) - 20*time.Millisecond):
		case <-ctx.Done():
		}
		return nil, context.DeadlineExceeded
	})
	client := sts.New(hang, "AKIAIOSFODNN7EXAMPLE", func(o *sts.Options) { o.EndpointURL = srv.URL })
	_, err := client.AssumeRole(ctx, sts.AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s"})
	if got := creds.ClassOf(err); got != creds.ClassDevice {
		t.Fatalf("class %v, want device: %v", got, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "sign STS AssumeRole request") {
		t.Fatalf("err = %v", err)
	}
	if requests.Load() != 0 {
		t.Fatalf("%d requests reached the server", requests.Load())
	}
}

// TestSilentSTSIsSTS is the converse: the signature is made, STS does not answer in time.
func TestSilentSTSIsSTS(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	client := sts.New(sigv4.SoftwareDeriver("secret"), "AKIAIOSFODNN7EXAMPLE", func(o *sts.Options) { o.EndpointURL = srv.URL })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.AssumeRole(ctx, sts.AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s"})
	if got := creds.ClassOf(err); got != creds.ClassSTS || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("class %v, want STS: %v", got, err)
	}
}
