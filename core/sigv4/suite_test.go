package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteDir holds the v4 cases of the AWS signing test suite (aws-c-auth
// tests/aws-signing-test-suite/v4), copied byte for byte; see its README.md.
const suiteDir = "testdata/aws-signing-test-suite"

// suiteCases is the number of cases in the suite; a missing folder must fail, not shrink
// the test.
const suiteCases = 38

// suiteContext is a case's context.json.
type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	ExpirationInSeconds int       `json:"expiration_in_seconds"`
	Normalize           bool      `json:"normalize"`
	Region              string    `json:"region"`
	Service             string    `json:"service"`
	SignBody            bool      `json:"sign_body"`
	Timestamp           time.Time `json:"timestamp"`
	OmitSessionToken    bool      `json:"omit_session_token"`
}

// parseSuiteRequest reads a request.txt: a request line "METHOD TARGET HTTP/1.1" whose
// target is literal text (it may hold raw spaces and UTF-8), "Name:value" header lines
// where a line starting with whitespace continues the previous header, and after an empty
// line an optional body without trailing newline.
//
// The path goes into URL.Opaque as "//host/path" so that nothing escapes it on the way to
// the signer; the Host header becomes r.Host and Content-Length r.ContentLength, as in a
// request net/http would send.
func parseSuiteRequest(raw string) (*http.Request, []byte, error) {
	head, body, hasBody := strings.Cut(raw, "\n\n")
	lines := strings.Split(strings.TrimSuffix(head, "\n"), "\n")
	method, rest, ok := strings.Cut(lines[0], " ")
	i := strings.LastIndexByte(rest, ' ')
	if !ok || i < 0 || rest[i+1:] != "HTTP/1.1" {
		return nil, nil, fmt.Errorf("bad request line %q", lines[0])
	}
	target := rest[:i]
	path, query, _ := strings.Cut(target, "?")

	type field struct{ name, value string }
	var fields []field
	for _, l := range lines[1:] {
		if l == "" {
			return nil, nil, fmt.Errorf("empty header line")
		}
		if l[0] == ' ' || l[0] == '\t' {
			// Obsolete line folding (RFC 9112 section 5.2): the fold becomes one space.
			if len(fields) == 0 {
				return nil, nil, fmt.Errorf("continuation line %q before any header", l)
			}
			fields[len(fields)-1].value += " " + strings.TrimLeft(l, " \t")
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, nil, fmt.Errorf("header line %q has no colon", l)
		}
		fields = append(fields, field{name, value})
	}

	r := &http.Request{Method: method, Header: make(http.Header)}
	var host string
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "host":
			host = strings.TrimSpace(f.value)
		case "content-length":
			n, err := strconv.ParseInt(strings.TrimSpace(f.value), 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("content-length: %w", err)
			}
			r.ContentLength = n
		default:
			r.Header.Add(f.name, f.value)
		}
	}
	if host == "" {
		return nil, nil, fmt.Errorf("no Host header")
	}
	r.Host = host
	r.URL = &url.URL{Scheme: "https", Host: host, Opaque: "//" + host + path, RawQuery: query}
	var b []byte
	if hasBody {
		b = []byte(body)
		if r.ContentLength != int64(len(b)) {
			return nil, nil, fmt.Errorf("content-length %d, body %d bytes", r.ContentLength, len(b))
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r, b, nil
}

type suiteCase struct {
	name string
	dir  string
	ctx  suiteContext
}

func loadSuite(t *testing.T) []suiteCase {
	t.Helper()
	entries, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Fatalf("read test suite: %v", err)
	}
	var cases []suiteCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := suiteCase{name: e.Name(), dir: filepath.Join(suiteDir, e.Name())}
		b, err := os.ReadFile(filepath.Join(c.dir, "context.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &c.ctx); err != nil {
			t.Fatalf("%s: context.json: %v", c.name, err)
		}
		cases = append(cases, c)
	}
	if len(cases) != suiteCases {
		t.Fatalf("found %d cases in %s, want %d", len(cases), suiteDir, suiteCases)
	}
	return cases
}

func readSuiteFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// suiteSetup returns the signer, request, payload hash and credentials for a case, with the
// flags of context.json applied as the suite's README describes.
func suiteSetup(t *testing.T, c suiteCase, presign bool) (*Signer, *http.Request, string, Credentials) {
	t.Helper()
	r, body, err := parseSuiteRequest(readSuiteFile(t, c.dir, "request.txt"))
	if err != nil {
		t.Fatalf("parse request.txt: %v", err)
	}
	payloadHash := EmptyPayloadHash
	if c.ctx.SignBody {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	s := New(SoftwareDeriver(c.ctx.Credentials.SecretAccessKey), func(o *Options) {
		o.NormalizeURIPath = c.ctx.Normalize
		o.UnsignedSessionToken = c.ctx.OmitSessionToken
		o.AddContentSHA256Header = c.ctx.SignBody && !presign
	})
	creds := Credentials{AccessKeyID: c.ctx.Credentials.AccessKeyID, SessionToken: c.ctx.Credentials.Token}
	return s, r, payloadHash, creds
}

func TestSigningSuite(t *testing.T) {
	for _, c := range loadSuite(t) {
		t.Run(c.name+"/header", func(t *testing.T) { testSuiteHeader(t, c) })
		t.Run(c.name+"/query", func(t *testing.T) { testSuiteQuery(t, c) })
	}
}

func testSuiteHeader(t *testing.T, c suiteCase) {
	ctx := context.Background()
	s, r, payloadHash, creds := suiteSetup(t, c, false)
	sig, err := s.sign(ctx, r, payloadHash, creds, c.ctx.Service, c.ctx.Region, c.ctx.Timestamp, s.options, 0)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	compareSuite(t, c, "header", sig)

	if err := s.SignHTTP(ctx, r, payloadHash, creds, c.ctx.Service, c.ctx.Region, c.ctx.Timestamp); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	// header-signed-request.txt: the same Authorization line, and the session token sent
	// (signed or not).
	want := map[string]string{}
	for _, l := range strings.Split(readSuiteFile(t, c.dir, "header-signed-request.txt"), "\n") {
		if name, value, ok := strings.Cut(l, ":"); ok {
			want[strings.ToLower(name)] = value
		}
	}
	for _, h := range []string{"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"} {
		if got := r.Header.Get(h); got != want[h] {
			t.Errorf("%s header = %q, header-signed-request.txt has %q", h, got, want[h])
		}
	}
}

func testSuiteQuery(t *testing.T, c suiteCase) {
	ctx := context.Background()
	s, r, payloadHash, creds := suiteSetup(t, c, true)
	expires := time.Duration(c.ctx.ExpirationInSeconds) * time.Second
	sig, err := s.sign(ctx, r, payloadHash, creds, c.ctx.Service, c.ctx.Region, c.ctx.Timestamp, s.options, expires)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	compareSuite(t, c, "query", sig)

	signedURL, _, err := s.PresignHTTP(ctx, r, payloadHash, creds, c.ctx.Service, c.ctx.Region, c.ctx.Timestamp, expires)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	// query-signed-request.txt orders the parameters differently; compare them as sets.
	line, _, _ := strings.Cut(readSuiteFile(t, c.dir, "query-signed-request.txt"), "\n")
	_, wantQuery, _ := strings.Cut(strings.TrimSuffix(line, " HTTP/1.1"), "?")
	want, err := url.ParseQuery(wantQuery)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signedURL)
	if err != nil {
		t.Fatalf("parse presigned URL %q: %v", signedURL, err)
	}
	if got := u.Query(); !reflect.DeepEqual(got, want) {
		t.Errorf("presigned query\n got %v\nwant %v", got, want)
	}
}

func compareSuite(t *testing.T, c suiteCase, variant string, sig *signed) {
	t.Helper()
	for _, f := range []struct{ file, got string }{
		{variant + "-canonical-request.txt", sig.canonicalRequest},
		{variant + "-string-to-sign.txt", sig.stringToSign},
		{variant + "-signature.txt", sig.signature},
	} {
		if want := readSuiteFile(t, c.dir, f.file); f.got != want {
			t.Errorf("%s:\n got: %q\nwant: %q", f.file, f.got, want)
		}
	}
}

// TestParseSuiteRequest pins the parser's handling of the suite's awkward inputs.
func TestParseSuiteRequest(t *testing.T) {
	tests := []struct {
		name, raw  string
		wantPath   string
		wantQuery  string
		wantHeader http.Header
		wantBody   string
	}{
		{
			name:       "raw space in path",
			raw:        "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n",
			wantPath:   "/example space/",
			wantHeader: http.Header{},
		},
		{
			name:       "folded header",
			raw:        "GET / HTTP/1.1\nHost:h\nMy-Header1:value1\n  value2\n     value3\n",
			wantPath:   "/",
			wantHeader: http.Header{"My-Header1": {"value1 value2 value3"}},
		},
		{
			name:       "duplicate header keeps order",
			raw:        "GET /?a=b HTTP/1.1\nHost:h\nMy-Header1:value2\nMy-Header1:value1\n",
			wantPath:   "/",
			wantQuery:  "a=b",
			wantHeader: http.Header{"My-Header1": {"value2", "value1"}},
		},
		{
			name:       "body",
			raw:        "POST / HTTP/1.1\nHost:h\nContent-Length:3\n\nx=1",
			wantPath:   "/",
			wantHeader: http.Header{},
			wantBody:   "x=1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body, err := parseSuiteRequest(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := uriPath(r.URL); got != tt.wantPath {
				t.Errorf("path = %q, want %q", got, tt.wantPath)
			}
			if r.URL.RawQuery != tt.wantQuery {
				t.Errorf("query = %q, want %q", r.URL.RawQuery, tt.wantQuery)
			}
			if !reflect.DeepEqual(r.Header, tt.wantHeader) {
				t.Errorf("header = %v, want %v", r.Header, tt.wantHeader)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}
