package sigv4

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example of "Examples of how to derive a signing key for Signature Version 4" (AWS
// IAM User Guide): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
const (
	awsDocDateKey    = "969fbb94feb542b71ede6f87fe4d5fa29c789342b0f407474670f0c2489e0a0d"
	awsDocSigningKey = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
)

func TestKeyDerivationKnownAnswer(t *testing.T) {
	kDate, err := SoftwareDeriver(testSecret).DeriveDateKey(context.Background(), "20120215")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(kDate); got != awsDocDateKey {
		t.Errorf("kDate = %s, want %s", got, awsDocDateKey)
	}
	if got := hex.EncodeToString(deriveSigningKey(kDate, "us-east-1", "iam")); got != awsDocSigningKey {
		t.Errorf("kSigning = %s, want %s", got, awsDocSigningKey)
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"/./", "/"},
		{"/example/..", "/"},
		{"/example1/example2/../..", "/"},
		{"/./example", "/example"},
		{"//example//", "/example/"},
		{"/a/b/../c/", "/a/c/"},
		{"/../../a", "/a"},
		{"/a/./b/.", "/a/b"},
		{"/a%2F..", "/a%2F.."}, // encoded separators are not separators
		{"/...", "/..."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := normalizePath(tt.in); got != tt.want {
				t.Errorf("normalizePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in        string
		keepSlash bool
		want      string
	}{
		{"-._~AZaz09", false, "-._~AZaz09"},
		{"a b", false, "a%20b"},
		{"a+b", false, "a%2Bb"},
		{"a/b", false, "a%2Fb"},
		{"a/b", true, "a/b"},
		{"ሴ", true, "%E1%88%B4"},
		{"%41", true, "%2541"},
		{"*", false, "%2A"},
		{"\x00\xff", false, "%00%FF"},
	}
	for _, tt := range tests {
		if got := uriEncode(tt.in, tt.keepSlash); got != tt.want {
			t.Errorf("uriEncode(%q, %v) = %q, want %q", tt.in, tt.keepSlash, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"},
		{"key&empty=", "empty=&key="},
		{"a+b=c%20d&x=%2F", "a%20b=c%20d&x=%2F"},
		{"b=1&B=1", "B=1&b=1"},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalQuery(q); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestStripExcessSpaces(t *testing.T) {
	// aws-sdk-go-v2's TestStripExcessHeaders vectors.
	tests := []struct{ in, want string }{
		{"", ""}, {"123", "123"}, {"1 2 3", "1 2 3"}, {"1 2 3 ", "1 2 3"}, {"  1 2 3", "1 2 3"},
		{"1  2 3", "1 2 3"}, {"1  23", "1 23"}, {"1  2  3", "1 2 3"}, {"1  2  ", "1 2"},
		{" 1  2  ", "1 2"}, {"12   3", "12 3"}, {"12   3   1", "12 3 1"},
		{"12           3     1", "12 3 1"}, {"12     3       1abc123", "12 3 1abc123"},
		{"   ", ""}, {"a\t\tb", "a\t\tb"},
	}
	for _, tt := range tests {
		if got := stripExcessSpaces(tt.in); got != tt.want {
			t.Errorf("stripExcessSpaces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHoistable(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"X-Amz-Target", true},
		{"X-Amz-Date", true},
		{"x-amz-user-agent", true},
		{"X-Amz-Checksum-Mode", true},
		{"X-Amz-Meta-Foo", false},
		{"X-Amz-Object-Lock-Mode", false},
		{"X-Amz-Checksum-Crc32", false},
		{"X-Amz-Content-Sha256", false},
		{"X-Amz-Grant-Full-Control", false},
		{"Content-Type", false},
		{"My-Header", false},
	}
	for _, tt := range tests {
		if got := hoistable(tt.name); got != tt.want {
			t.Errorf("hoistable(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSignHTTPRefuses(t *testing.T) {
	good := func() (*http.Request, string, Credentials, string, string, time.Time) {
		return newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID", SessionToken: "SeCrEtToK"}, "sts", "us-east-1", day1
	}
	tests := []struct {
		name    string
		mutate  func(r *http.Request, ph *string, c *Credentials, svc, region *string, tm *time.Time)
		wantMsg string
	}{
		{"no host", func(r *http.Request, _ *string, _ *Credentials, _, _ *string, _ *time.Time) {
			r.URL.Host, r.Host = "", ""
		},
			"sigv4: invalid request host"},
		{"malformed query", func(r *http.Request, _ *string, _ *Credentials, _, _ *string, _ *time.Time) { r.URL.RawQuery = "a=%zz" },
			"sigv4: request query"},
		{"bad header name", func(r *http.Request, _ *string, _ *Credentials, _, _ *string, _ *time.Time) {
			r.Header["Bad Name"] = []string{"x"}
		},
			`sigv4: header "Bad Name": invalid name`},
		{"bad header value", func(r *http.Request, _ *string, _ *Credentials, _, _ *string, _ *time.Time) {
			r.Header.Set("X-Secret", "s3cr3t\n")
		}, `sigv4: header "X-Secret": value has control characters`},
		{"bad method", func(r *http.Request, _ *string, _ *Credentials, _, _ *string, _ *time.Time) { r.Method = "GE\nT" },
			"sigv4: invalid request method"},
		{"empty payload hash", func(_ *http.Request, ph *string, _ *Credentials, _, _ *string, _ *time.Time) { *ph = "" },
			"sigv4: invalid payload hash"},
		{"no access key", func(_ *http.Request, _ *string, c *Credentials, _, _ *string, _ *time.Time) { c.AccessKeyID = "" },
			"sigv4: invalid access key ID"},
		{"token with newline", func(_ *http.Request, _ *string, c *Credentials, _, _ *string, _ *time.Time) {
			c.SessionToken = "SeCrEtToK\n"
		},
			"sigv4: invalid session token"},
		{"slash in region", func(_ *http.Request, _ *string, _ *Credentials, _, region *string, _ *time.Time) { *region = "us/east" },
			"sigv4: invalid region"},
		{"empty service", func(_ *http.Request, _ *string, _ *Credentials, svc, _ *string, _ *time.Time) { *svc = "" },
			"sigv4: invalid service name"},
		{"zero time", func(_ *http.Request, _ *string, _ *Credentials, _, _ *string, tm *time.Time) { *tm = time.Time{} },
			"sigv4: signing time is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &countingDeriver{d: SoftwareDeriver(testSecret)}
			r, ph, c, svc, region, tm := good()
			tt.mutate(r, &ph, &c, &svc, &region, &tm)
			before := r.Header.Clone()
			err := New(d).SignHTTP(context.Background(), r, ph, c, svc, region, tm)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Fatalf("SignHTTP error = %v, want prefix %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "SeCrEtToK") {
				t.Errorf("error %q shows a header value or token", err)
			}
			if d.calls.Load() != 0 {
				t.Error("the Deriver was called for a request that is refused")
			}
			if len(r.Header) != len(before) {
				t.Error("request headers changed")
			}
		})
	}
}

func TestPresignExpiryBounds(t *testing.T) {
	s := New(SoftwareDeriver(testSecret))
	for _, tt := range []struct {
		expires time.Duration
		ok      bool
	}{
		{0, false}, {time.Millisecond, false}, {time.Second, true}, {MaxPresignExpiry, true}, {MaxPresignExpiry + time.Second, false},
	} {
		u, _, err := s.PresignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, tt.expires)
		if (err == nil) != tt.ok {
			t.Errorf("expires %v: err = %v, want ok=%v", tt.expires, err, tt.ok)
		}
		if want := "X-Amz-Expires=" + strconv.Itoa(int(tt.expires/time.Second)) + "&"; tt.ok && !strings.Contains(u, want) {
			t.Errorf("URL %s lacks %s", u, want)
		}
	}
}

func TestSignHTTPHost(t *testing.T) {
	tests := []struct {
		url, reqHost string
		wantSigned   string // host as signed and sent
	}{
		{"http://127.0.0.1:5000/", "", "127.0.0.1:5000"},
		{"https://sts.amazonaws.com:443/", "", "sts.amazonaws.com"},
		{"http://sts.amazonaws.com:80/", "", "sts.amazonaws.com"},
		{"http://sts.amazonaws.com:443/", "", "sts.amazonaws.com:443"},
		{"https://[::1]:443/", "", "[::1]"},
		{"https://[::1]:8443/", "", "[::1]:8443"},
		{"https://10.0.0.1/", "sts.amazonaws.com:8443", "sts.amazonaws.com:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.url+" "+tt.reqHost, func(t *testing.T) {
			r, err := http.NewRequest("GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.reqHost != "" {
				r.Host = tt.reqHost
			}
			s := New(SoftwareDeriver(testSecret))
			sig, err := s.sign(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, s.options, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := "\nhost:" + tt.wantSigned + "\n"; !strings.Contains(sig.canonicalRequest, want) {
				t.Errorf("canonical request %q lacks %q", sig.canonicalRequest, want)
			}
			if err := s.SignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1); err != nil {
				t.Fatal(err)
			}
			if got := requestHost(r); got != tt.wantSigned {
				t.Errorf("host sent = %q, want %q", got, tt.wantSigned)
			}
		})
	}
}

func TestSignHTTPHeaders(t *testing.T) {
	const token = "FwoGZXIvYXdzEXAMPLE"
	tests := []struct {
		name              string
		opts              Options
		wantSignedHeaders string
		wantToken         bool
		wantContentSHA256 bool
	}{
		{"default", Options{}, "content-length;content-type;host;x-amz-date;x-amz-security-token", true, false},
		{"unsigned token", Options{UnsignedSessionToken: true}, "content-length;content-type;host;x-amz-date", true, false},
		{"content sha256", Options{AddContentSHA256Header: true}, "content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRequest(t)
			// Never signed: proxies and libraries rewrite them.
			r.Header.Set("User-Agent", "aws-cli/2")
			r.Header.Set("X-Amzn-Trace-Id", "Root=1")
			r.Header.Set("Expect", "100-continue")
			r.Header.Set("Authorization", "stale")
			r.Header.Set("X-Amz-Security-Token", "stale")
			s := New(SoftwareDeriver(testSecret), func(o *Options) { *o = tt.opts })
			if err := s.SignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID", SessionToken: token}, "sts", "us-east-1", day1); err != nil {
				t.Fatal(err)
			}
			auth := r.Header.Values("Authorization")
			if len(auth) != 1 || !strings.Contains(auth[0], "SignedHeaders="+tt.wantSignedHeaders+", ") {
				t.Errorf("Authorization = %q, want SignedHeaders=%s", auth, tt.wantSignedHeaders)
			}
			if got := r.Header.Values("X-Amz-Security-Token"); tt.wantToken && (len(got) != 1 || got[0] != token) {
				t.Errorf("X-Amz-Security-Token = %q, want [%q]", got, token)
			}
			if got := r.Header.Get("X-Amz-Date"); got != "20150830T123600Z" {
				t.Errorf("X-Amz-Date = %q", got)
			}
			if got := r.Header.Get("X-Amz-Content-Sha256"); (got == EmptyPayloadHash) != tt.wantContentSHA256 {
				t.Errorf("X-Amz-Content-Sha256 = %q, want set: %v", got, tt.wantContentSHA256)
			}
		})
	}
}

func TestPresignHTTP(t *testing.T) {
	r := newTestRequest(t)
	r.Header.Set("X-Amz-Target", "hoisted")
	r.Header.Set("X-Amz-Meta-Kept", "header")
	orig := r.URL.String()
	s := New(SoftwareDeriver(testSecret))
	u, h, err := s.PresignHTTP(context.Background(), r, UnsignedPayload, Credentials{AccessKeyID: "AKID", SessionToken: "tok/+="}, "sts", "us-east-1", day1, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL.String() != orig || r.Header.Get("Authorization") != "" {
		t.Error("PresignHTTP changed the request")
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	for k, want := range map[string]string{
		"X-Amz-Algorithm":      "AWS4-HMAC-SHA256",
		"X-Amz-Credential":     "AKID/20150830/us-east-1/sts/aws4_request",
		"X-Amz-Date":           "20150830T123600Z",
		"X-Amz-Expires":        "900",
		"X-Amz-Security-Token": "tok/+=",
		"X-Amz-SignedHeaders":  "content-length;content-type;host;x-amz-meta-kept",
		"X-Amz-Target":         "hoisted",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if sig := q.Get("X-Amz-Signature"); len(sig) != 64 {
		t.Errorf("X-Amz-Signature = %q", sig)
	}
	if !strings.HasSuffix(u, "&X-Amz-Signature="+q.Get("X-Amz-Signature")) {
		t.Errorf("X-Amz-Signature is not last: %s", u)
	}
	want := http.Header{
		"Host":            {"sts.us-east-1.amazonaws.com"},
		"Content-Length":  {"41"},
		"Content-Type":    {"application/x-www-form-urlencoded; charset=utf-8"},
		"X-Amz-Meta-Kept": {"header"},
	}
	if len(h) != len(want) {
		t.Errorf("signed headers %v, want %v", h, want)
	}
	for k, v := range want {
		if got := h.Get(k); got != v[0] {
			t.Errorf("signed header %s = %q, want %q", k, got, v[0])
		}
	}
}

// TestTraceRedactsToken: Options.Trace sees what was signed, never the session token.
func TestTraceRedactsToken(t *testing.T) {
	const token = "FQoGZXIvYXdzEXAMPLE/token+with=chars"
	var canonical, sts string
	s := New(SoftwareDeriver("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), func(o *Options) {
		o.Trace = func(c, s string) { canonical, sts = c, s }
	})
	r, _ := http.NewRequest(http.MethodGet, "https://s3.amazonaws.com/bucket/key", nil)
	if _, _, err := s.PresignHTTP(context.Background(), r, UnsignedPayload, Credentials{AccessKeyID: "AKID", SessionToken: token}, "s3", "us-east-1", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC), time.Hour); err != nil {
		t.Fatal(err)
	}
	if canonical == "" || !strings.HasPrefix(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n") {
		t.Fatalf("trace got canonical %q, string to sign %q", canonical, sts)
	}
	if strings.Contains(canonical, "FQoGZXIvYXdzEXAMPLE") || !strings.Contains(canonical, "X-Amz-Security-Token=REDACTED") {
		t.Fatalf("trace shows the session token or no redaction: %q", canonical)
	}
}
