package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzCanonicalRequest feeds arbitrary requests to the canonicalisation. It must never
// panic, must give the same answer twice, and whatever it accepts must have the shape of
// "Create a canonical request": six parts, an encoded path and query, sorted and trimmed
// headers that match the signed headers list, and the payload hash last.
func FuzzCanonicalRequest(f *testing.F) {
	f.Add("GET", "example.amazonaws.com", "/", "", "", EmptyPayloadHash, uint8(0))
	f.Add("POST", "sts.amazonaws.com:443", "/a b/ሴ/%41", "Param2=value2&Param1=value1&a=2&a=1", "My-Header1:  a   b  \nMy-Header1:c\nUser-Agent:x", UnsignedPayload, uint8(1))
	f.Add("GET", "127.0.0.1:5000", "//example/./../x//", "%E1%88%B4=Value1&Param=Value2&key", "X-Amz-Target:t\nX-Amz-Meta-A:b", "abc", uint8(0b1111))
	f.Add("PUT", "[::1]:80", "/key+with+plus", "a;b", "Bad Name:x", "", uint8(0b10010))
	f.Fuzz(func(t *testing.T, method, host, path, rawQuery, headerBlob, payloadHash string, flags uint8) {
		r := &http.Request{
			Method: method,
			URL:    &url.URL{Scheme: []string{"https", "http"}[flags&1], Host: host, RawQuery: rawQuery},
			Header: make(http.Header),
		}
		if flags&2 != 0 {
			r.URL.Opaque = "//" + host + path
		} else {
			r.URL.Path = path
		}
		if headerBlob != "" {
			for _, l := range strings.Split(headerBlob, "\n") {
				name, value, _ := strings.Cut(l, ":")
				r.Header[name] = append(r.Header[name], value) // as given, not canonicalised
			}
		}
		if flags&64 != 0 {
			r.ContentLength = int64(len(headerBlob))
		}
		opts := Options{
			NormalizeURIPath:       flags&4 != 0,
			DisableURIPathEscaping: flags&8 != 0,
			UnsignedSessionToken:   flags&16 != 0,
			AddContentSHA256Header: flags&32 != 0,
		}
		var expires time.Duration
		if flags&128 != 0 {
			expires = time.Hour
		}
		creds := Credentials{AccessKeyID: "AKIDEXAMPLE", SessionToken: "tok"}
		when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
		headerBefore := r.Header.Clone()
		urlBefore := *r.URL

		a, errA := prepare(r, payloadHash, creds, "service", "us-east-1", when, opts, expires)
		b, errB := prepare(r, payloadHash, creds, "service", "us-east-1", when, opts, expires)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %v / %v", errA, errB)
		}
		if !reflect.DeepEqual(r.Header, headerBefore) || *r.URL != urlBefore {
			t.Fatal("prepare changed the request")
		}
		if errA != nil {
			if !strings.HasPrefix(errA.Error(), "sigv4: ") {
				t.Fatalf("error without prefix: %v", errA)
			}
			return
		}
		checkCanonicalShape(t, a, payloadHash, opts, expires > 0)
	})
}

func checkCanonicalShape(t *testing.T, s *signed, payloadHash string, opts Options, presign bool) {
	t.Helper()
	lines := strings.Split(s.canonicalRequest, "\n")
	signedNames := strings.Split(s.signedHeaders, ";")
	if want := 3 + len(signedNames) + 3; len(lines) != want {
		t.Fatalf("canonical request has %d lines, want %d:\n%s", len(lines), want, s.canonicalRequest)
	}
	uri, query := lines[1], lines[2]
	headerLines := lines[3 : 3+len(signedNames)]
	if lines[3+len(signedNames)] != "" {
		t.Fatalf("no empty line after the canonical headers")
	}
	if got := lines[len(lines)-2]; got != s.signedHeaders {
		t.Fatalf("signed headers line %q, want %q", got, s.signedHeaders)
	}
	if got := lines[len(lines)-1]; got != payloadHash {
		t.Fatalf("last line %q, want the payload hash %q", got, payloadHash)
	}

	// Canonical URI.
	if !strings.HasPrefix(uri, "/") {
		t.Errorf("canonical URI %q does not start with /", uri)
	}
	if !opts.DisableURIPathEscaping {
		checkEncoded(t, "canonical URI", uri, true)
	}
	if opts.NormalizeURIPath {
		for seg := range strings.SplitSeq(strings.Trim(uri, "/"), "/") {
			if seg == "." || seg == ".." || (seg == "" && uri != "/") {
				t.Errorf("normalized URI %q has segment %q", uri, seg)
			}
		}
	}

	// Canonical query: encoded pairs, sorted.
	if query != s.query {
		t.Errorf("query line %q, query %q", query, s.query)
	}
	var pairs [][2]string
	if query != "" {
		for p := range strings.SplitSeq(query, "&") {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				t.Fatalf("query pair %q has no =", p)
			}
			checkEncoded(t, "query key", k, false)
			checkEncoded(t, "query value", v, false)
			pairs = append(pairs, [2]string{k, v})
		}
	}
	if !slices.IsSortedFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	}) {
		t.Errorf("query not sorted: %q", query)
	}
	if presign {
		for _, k := range []string{"X-Amz-Algorithm=", "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-Expires=", "X-Amz-SignedHeaders="} {
			if !strings.Contains(query, k) {
				t.Errorf("presigned query %q lacks %s", query, k)
			}
		}
	}

	// Signed headers: sorted, unique, lower case, host always; x-amz-date when signing
	// headers; canonical header lines in the same order with trimmed values.
	if !slices.IsSorted(signedNames) || len(slices.Compact(slices.Clone(signedNames))) != len(signedNames) {
		t.Errorf("signed headers %q not sorted and unique", s.signedHeaders)
	}
	if !slices.Contains(signedNames, "host") {
		t.Errorf("host not signed: %q", s.signedHeaders)
	}
	if !presign && !slices.Contains(signedNames, "x-amz-date") {
		t.Errorf("x-amz-date not signed: %q", s.signedHeaders)
	}
	if opts.UnsignedSessionToken && slices.Contains(signedNames, "x-amz-security-token") {
		t.Errorf("session token signed with UnsignedSessionToken: %q", s.signedHeaders)
	}
	for i, l := range headerLines {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name != signedNames[i] {
			t.Fatalf("canonical header line %q, want name %q", l, signedNames[i])
		}
		if name != strings.ToLower(name) || ignoredHeaders[name] {
			t.Errorf("header name %q must be lower case and not ignored", name)
		}
		// Each value is trimmed and its runs of spaces collapsed, so the joined line is too.
		if strings.TrimSpace(value) != value || strings.Contains(value, "  ") {
			t.Errorf("header %s value %q not trimmed", name, value)
		}
	}

	// String to sign: algorithm, time, scope, hash of the canonical request.
	sum := sha256.Sum256([]byte(s.canonicalRequest))
	want := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + hex.EncodeToString(sum[:])
	if s.stringToSign != want {
		t.Errorf("string to sign %q, want %q", s.stringToSign, want)
	}
}

// checkEncoded reports bytes outside the unreserved set (and "/" in paths) that are not
// part of an upper-case %XX escape.
func checkEncoded(t *testing.T, what, s string, slash bool) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case unreserved(c), slash && c == '/':
		case c == '%' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]):
			i += 2
		default:
			t.Errorf("%s %q: byte %q at %d is not encoded", what, s, c, i)
			return
		}
	}
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
