package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// Values the tests search for in places they must not appear.
const (
	testToken   = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE" // 43 characters, like Token's
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
	testSession = "IQoJb3JpZ2luX2VjEPSESSIONTOKEN"
)

var testExpiry = time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)

func staticProvider() creds.Provider {
	return creds.ProviderFunc(func(context.Context) (creds.Credentials, error) {
		return creds.Credentials{AccessKeyID: "ASIATESTKEYID", SecretAccessKey: testSecret, SessionToken: testSession, Expiration: testExpiry}, nil
	})
}

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serve starts the handler on a loopback port (httptest binds 127.0.0.1).
func serve(t *testing.T, p creds.Provider, opts Options) *httptest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	h, err := Handler(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request with the given headers (set with their exact spelling, as the
// client they imitate sends them) and returns the response with its body read.
func do(t *testing.T, method, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header[k] = append(req.Header[k], v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestToken(t *testing.T) {
	a, err := Token()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Token()
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Fatalf("Token() = %q (%d bytes, %v); again %q", a, len(raw), err, b)
	}
	if _, err := Handler(staticProvider(), Options{Token: a}); err != nil {
		t.Fatalf("Handler refuses Token's token: %v", err)
	}
}

func TestHandlerOptions(t *testing.T) {
	tests := []struct {
		name string
		p    creds.Provider
		opts Options
		want error // nil: any error
	}{
		{"no token", staticProvider(), Options{}, ErrNoToken},
		{"short token", staticProvider(), Options{Token: "0123456789abcde"}, ErrBadToken},
		{"control character", staticProvider(), Options{Token: testToken + "\n"}, ErrBadToken},
		{"leading space", staticProvider(), Options{Token: " " + testToken}, ErrBadToken},
		{"non-ASCII", staticProvider(), Options{Token: testToken + "é"}, ErrBadToken},
		{"role with a slash", staticProvider(), Options{Token: testToken, IMDS: true, RoleName: "a/b"}, nil},
		{"token TTL under a second", staticProvider(), Options{Token: testToken, IMDS: true, MaxIMDSTokenTTL: time.Millisecond}, nil},
		{"no provider", nil, Options{Token: testToken}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Handler(tc.p, tc.opts)
			if err == nil || h != nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Handler = %v, %v; want error %v", h, err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("the error shows the token: %v", err)
			}
		})
	}
}

// ecsHeaders are the headers aws-sdk-go-v2's endpointcreds client sends (Accept and the
// token as Authorization, verbatim); botocore's ContainerMetadataFetcher sends the same two.
func ecsHeaders(token string) map[string]string {
	return map[string]string{"Accept": "application/json", "Authorization": token, "User-Agent": "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26"}
}

func TestECSRequiresTheExactToken(t *testing.T) {
	srv := serve(t, staticProvider(), Options{})
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"missing", map[string]string{"Accept": "application/json"}},
		{"empty", ecsHeaders("")},
		{"wrong", ecsHeaders("zzCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE")},
		{"different case", ecsHeaders(strings.ToLower(testToken))},
		{"prefix", ecsHeaders(testToken[:len(testToken)-1])},
		{"longer", ecsHeaders(testToken + "x")},
		{"bearer scheme", ecsHeaders("Bearer " + testToken)},
		{"other header", map[string]string{"X-Aws-Ec2-Metadata-Token": testToken}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, srv.URL+ECSPath, tc.headers)
			if resp.StatusCode != http.StatusUnauthorized || body != "" {
				t.Fatalf("status %d, body %q; want 401 and no body", resp.StatusCode, body)
			}
			if h := resp.Header; h.Get("WWW-Authenticate") != "" || h.Get("Content-Type") != "" {
				t.Fatalf("the refusal carries headers: %v", h)
			}
		})
	}
	t.Run("the token twice", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+ECSPath, nil)
		req.Header["Authorization"] = []string{testToken, testToken}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
}

// sdkECSCredentials is the shape aws-sdk-go-v2's endpointcreds client decodes
// (internal/client.GetCredentialsOutput).
type sdkECSCredentials struct {
	Expiration      *time.Time
	AccessKeyID     string
	SecretAccessKey string
	Token           string
}

func TestECSCredentials(t *testing.T) {
	srv := serve(t, staticProvider(), Options{})
	resp, body := do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(testToken))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Fatalf("Content-Type %q, Cache-Control %q", ct, cc)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"AccessKeyId": "ASIATESTKEYID", "SecretAccessKey": testSecret, "Token": testSession, "Expiration": "2026-11-30T13:00:00Z"}
	if !maps.Equal(fields, want) {
		t.Fatalf("body fields %v, want %v", fields, want)
	}
	var sdk sdkECSCredentials
	if err := json.Unmarshal([]byte(body), &sdk); err != nil || sdk.Expiration == nil || !sdk.Expiration.Equal(testExpiry) ||
		sdk.AccessKeyID != "ASIATESTKEYID" || sdk.SecretAccessKey != testSecret || sdk.Token != testSession {
		t.Fatalf("aws-sdk-go-v2 would read %+v (%v)", sdk, err)
	}
}

func TestECSNonExpiringCredentialsOmitExpiration(t *testing.T) {
	p := creds.ProviderFunc(func(context.Context) (creds.Credentials, error) {
		return creds.Credentials{AccessKeyID: "AKIATESTKEYID", SecretAccessKey: testSecret}, nil
	})
	srv := serve(t, p, Options{})
	_, body := do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(testToken))
	var fields map[string]string
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, []string{"AccessKeyId", "SecretAccessKey", "Token"}) {
		t.Fatalf("fields %v", got)
	}
}

func TestECSProviderError(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes of two-byte runes
	p := creds.ProviderFunc(func(context.Context) (creds.Credentials, error) {
		return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS AssumeRole", errors.New("AccessDenied "+long))
	})
	srv := serve(t, p, Options{})
	resp, body := do(t, http.MethodGet, srv.URL+ECSPath, ecsHeaders(testToken))
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, body %q (%v)", resp.StatusCode, body, err)
	}
	if e.Code != "CredentialsError" || !strings.HasPrefix(e.Message, "STS AssumeRole: AccessDenied ") ||
		len(e.Message) > 512 || len(e.Message) < 500 || strings.ContainsRune(e.Message, '\uFFFD') {
		t.Fatalf("error body %+v (%d bytes)", e, len(e.Message))
	}
	if !strings.Contains(body, `"code"`) || !strings.Contains(body, `"message"`) {
		t.Fatalf("the SDKs read lower-case code and message: %s", body)
	}
}

func TestRouting(t *testing.T) {
	srv := serve(t, staticProvider(), Options{}) // IMDS off
	tests := []struct {
		name, method, path string
		headers            map[string]string
		want               int
		allow              string
	}{
		{"POST credentials", http.MethodPost, ECSPath, ecsHeaders(testToken), http.StatusMethodNotAllowed, "GET"},
		{"PUT credentials", http.MethodPut, ECSPath, ecsHeaders(testToken), http.StatusMethodNotAllowed, "GET"},
		{"HEAD credentials", http.MethodHead, ECSPath, ecsHeaders(testToken), http.StatusMethodNotAllowed, "GET"},
		{"trailing slash", http.MethodGet, ECSPath + "/", ecsHeaders(testToken), http.StatusNotFound, ""},
		{"root", http.MethodGet, "/", ecsHeaders(testToken), http.StatusNotFound, ""},
		{"IMDS off", http.MethodPut, tokenPath, map[string]string{ttlHeader: "21600"}, http.StatusNotFound, ""},
		{"forwarded", http.MethodGet, ECSPath, map[string]string{"Authorization": testToken, "X-Forwarded-For": "10.0.0.1"}, http.StatusForbidden, ""},
		{"from a browser", http.MethodGet, ECSPath, map[string]string{"Authorization": testToken, "Origin": "http://evil.example"}, http.StatusForbidden, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.headers)
			if resp.StatusCode != tc.want || body != "" || resp.Header.Get("Allow") != tc.allow {
				t.Fatalf("status %d, Allow %q, body %q; want %d, Allow %q, no body", resp.StatusCode, resp.Header.Get("Allow"), body, tc.want, tc.allow)
			}
		})
	}
}
