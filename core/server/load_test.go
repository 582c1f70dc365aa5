package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/refresh"
)

// shortLived hands out credentials that expire within 2 seconds, on whole seconds as STS's
// do (the protocols carry whole seconds), each with its own secret and token.
type shortLived struct{ calls atomic.Int64 }

func (s *shortLived) Retrieve(context.Context) (creds.Credentials, error) {
	n := s.calls.Add(1)
	return creds.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIASHORT%06d", n),
		SecretAccessKey: fmt.Sprintf("shortSECRET%06d", n),
		SessionToken:    fmt.Sprintf("shortSESSION%06d", n),
		Expiration:      time.Now().Add(2 * time.Second).Truncate(time.Second),
	}, nil
}

// TestLoadWithRefresh is the property `awskeep serve` promises: with a refresh.Provider in
// front of the source, 200 clients (half ECS, half IMDSv2) asking as fast as they can for
// a few seconds, while 2-second credentials are replaced underneath them, see no failed
// request and no expired credentials.
func TestLoadWithRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3 seconds")
	}
	src := &shortLived{}
	p := refresh.New(src)
	p.Start()
	defer p.Close()
	srv := serve(t, p, Options{IMDS: true})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	const clients, run = 200, 3 * time.Second
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	fail := func(format string, args ...any) {
		failures.Add(1)
		firstFailure.CompareAndSwap(nil, fmt.Sprintf(format, args...))
	}
	get := func(req *http.Request) (creds.Credentials, bool) {
		requests.Add(1)
		resp, err := client.Do(req)
		if err != nil {
			fail("%s: %v", req.URL.Path, err)
			return creds.Credentials{}, false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			fail("%s: status %d, %v: %s", req.URL.Path, resp.StatusCode, err, body)
			return creds.Credentials{}, false
		}
		var c struct {
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string
			Token           string
			Expiration      time.Time
		}
		if err := json.Unmarshal(body, &c); err != nil {
			fail("%s: %v", req.URL.Path, err)
			return creds.Credentials{}, false
		}
		return creds.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token, Expiration: c.Expiration}, true
	}
	// The server must not hand out credentials that had expired when it answered, which
	// was after the request was sent. (Checking against the time the answer arrives would
	// measure this loaded machine's latency, which the race detector and 200 clients on
	// two cores push past the half-second margin of 1-second credentials.)
	check := func(c creds.Credentials, sent time.Time) {
		if !c.Expiration.After(sent) || !strings.HasPrefix(c.SecretAccessKey, "shortSECRET") {
			fail("got %v for a request sent at %s", c, sent.UTC().Format(time.RFC3339Nano))
		}
	}

	stop := time.Now().Add(run)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			if i%2 == 0 {
				for time.Now().Before(stop) {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+ECSPath, nil)
					req.Header.Set("Authorization", testToken)
					sent := time.Now()
					if c, ok := get(req); ok {
						check(c, sent)
					}
				}
				return
			}
			req, _ := http.NewRequest(http.MethodPut, srv.URL+tokenPath, nil)
			req.Header.Set(ttlHeader, "21600")
			requests.Add(1)
			resp, err := client.Do(req)
			if err != nil {
				fail("PUT token: %v", err)
				return
			}
			tok, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				fail("PUT token: status %d", resp.StatusCode)
				return
			}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+credsPath+"awskeep", nil)
				req.Header.Set(tokenHeader, string(tok))
				sent := time.Now()
				if c, ok := get(req); ok {
					check(c, sent)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", n, requests.Load(), firstFailure.Load())
	}
	if fetched := src.calls.Load(); fetched < 2 || fetched > 10 {
		t.Fatalf("the source was called %d times in %v", fetched, run)
	}
	t.Logf("%d requests, %d fetches, no failure", requests.Load(), src.calls.Load())
}

func TestDebugLogHoldsNoSecret(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	failing := false
	var mu sync.Mutex
	p := creds.ProviderFunc(func(ctx context.Context) (creds.Credentials, error) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS AssumeRole", context.DeadlineExceeded)
		}
		return staticProvider().Retrieve(ctx)
	})
	srv := serve(t, p, Options{IMDS: true, Logger: log})
	wrong := "WRONGtokenWRONGtokenWRONGtoken"

	do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(testToken))
	do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(wrong))
	session := imdsToken(t, srv.URL, ttlHeader)
	do(t, http.MethodGet, srv.URL+credsPath, map[string]string{tokenHeader: session})
	do(t, http.MethodGet, srv.URL+credsPath+"awskeep", map[string]string{tokenHeader: session})
	do(t, http.MethodGet, srv.URL+credsPath+"awskeep?token="+wrong, map[string]string{tokenHeader: session})
	mu.Lock()
	failing = true
	mu.Unlock()
	do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(testToken))

	out := buf.String()
	for _, secret := range []string{testToken, wrong, session, testSecret, testSession} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d log lines, want one per request:\n%s", len(lines), out)
	}
	for _, want := range []string{`"method":"GET","path":"/awskeep/credentials","status":200`, `"status":401`,
		`"method":"PUT","path":"/latest/api/token","status":200`, `"error":"STS AssumeRole: context deadline exceeded"`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Fatalf("the log lacks %s:\n%s", want, out)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
