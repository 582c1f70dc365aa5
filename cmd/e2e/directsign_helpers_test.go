package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for the devicesign (Go API) tests: a recording reverse proxy in front of moto,
// the environment a Key reads, and requests sent with the real curl binary.

// recordedCall is one request that went through a recorder.
type recordedCall struct {
	Method, Path, Query string
	// Action is the query API action (form or query parameter Action), or X-Amz-Target.
	Action string
	// AccessKeyID and Scope (date/region/service) are those of the Authorization header
	// or of X-Amz-Credential; empty for an unsigned request.
	AccessKeyID, Scope string
	// PayloadHash is X-Amz-Content-Sha256 (S3): a hex SHA-256, UNSIGNED-PAYLOAD or a
	// STREAMING-* marker of an aws-chunked body.
	PayloadHash string
}

func (c recordedCall) String() string {
	s := c.Method + " " + c.Path
	if c.Query != "" {
		s += "?" + c.Query
	}
	if c.Action != "" {
		s += " " + c.Action
	}
	return s
}

// callRecorder is a reverse proxy in front of moto that records every request. It keeps the
// Host header: clients sign for the recorder's host:port and moto recomputes the signature
// from the Host it receives.
type callRecorder struct {
	URL   string
	mu    sync.Mutex
	calls []recordedCall
}

// maxFormBody is the largest form body the recorder parses for its Action: query API
// calls are small, S3 uploads are not forms.
const maxFormBody = 1 << 20

func startCallRecorder(t *testing.T, target string) *callRecorder {
	t.Helper()
	rec := &callRecorder{}
	proxy := hostKeepingProxy(t, target)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := recordedCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
		c.Action = r.URL.Query().Get("Action")
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" && r.ContentLength <= maxFormBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
			r.Body.Close()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
				c.Action = form.Get("Action")
			}
		}
		if c.Action == "" {
			c.Action = r.Header.Get("X-Amz-Target")
		}
		c.AccessKeyID, c.Scope = credentialOf(r)
		c.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
		rec.mu.Lock()
		rec.calls = append(rec.calls, c)
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	})
	rec.URL = serveLoopback(t, handler)
	return rec
}

// credentialOf returns the access key ID and the date/region/service scope a request was
// signed with: "Credential=AKID/DATE/REGION/SERVICE/aws4_request" of the Authorization
// header, or the X-Amz-Credential query parameter of a presigned URL.
func credentialOf(r *http.Request) (accessKeyID, scope string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		for _, f := range strings.FieldsFunc(auth, func(r rune) bool { return r == ' ' || r == ',' }) {
			if v, ok := strings.CutPrefix(f, "Credential="); ok {
				cred = v
			}
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], strings.Join(parts[1:4], "/")
}

// recorded returns a copy of the calls so far.
func (rec *callRecorder) recorded() []recordedCall {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recordedCall(nil), rec.calls...)
}

// getenvOf is a Getenv that reads the given KEY=VALUE list (u.environ()).
func getenvOf(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// bufferLogger logs everything, at debug level and up, as text into a buffer.
func bufferLogger() (*slog.Logger, *lockedBuffer) {
	buf := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// curlBinary is the curl binary, or the test fails with how to install it.
func curlBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found on PATH: install it with apt-get install -y curl")
	}
	return p
}

// fetchWithCurl runs the real curl binary with args (URL included), writes the body to a file,
// and returns the HTTP status and the body. A transport failure fails the test.
func fetchWithCurl(t *testing.T, args ...string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := t.TempDir() + "/body"
	argv := append([]string{"--silent", "--show-error", "--output", out, "--write-out", "%{http_code}"}, args...)
	cmd := exec.CommandContext(ctx, curlBinary(t), argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl: %v\n%s", err, stderr.String())
	}
	status, err := strconv.Atoi(stdout.String())
	if err != nil {
		t.Fatalf("curl wrote %q, want an HTTP status", stdout.String())
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}
