package sigv4

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testSig     = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
	otherSecret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
)

func TestParseAuthorization(t *testing.T) {
	want := Authorization{
		AccessKeyID:   "AKIDEXAMPLE",
		Date:          "20150830",
		Region:        "us-east-1",
		Service:       "iam",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"},
		Signature:     testSig,
	}
	const cred, sh, sig = "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request", "SignedHeaders=content-type;host;x-amz-date", "Signature=" + testSig
	valid := []struct{ name, v string }{
		{"sdk", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig},
		{"no spaces after commas", "AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig},
		{"spaces around commas", "AWS4-HMAC-SHA256 " + cred + " , " + sh + " ,  " + sig},
		{"tabs", "AWS4-HMAC-SHA256\t" + cred + ",\t" + sh + ",\t" + sig},
		{"several spaces after algorithm", "AWS4-HMAC-SHA256   " + cred + ", " + sh + ", " + sig},
		{"surrounding space", "  AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + " \t"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !equalAuth(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}

	invalid := []struct{ name, v string }{
		{"empty", ""},
		{"spaces only", "   "},
		{"algorithm only", "AWS4-HMAC-SHA256"},
		{"algorithm and space", "AWS4-HMAC-SHA256 "},
		{"no space after algorithm", "AWS4-HMAC-SHA256" + cred + ", " + sh + ", " + sig},
		{"lower-case algorithm", "aws4-hmac-sha256 " + cred + ", " + sh + ", " + sig},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + cred + ", " + sh + ", " + sig},
		{"sigv2", "AWS AKIDEXAMPLE:" + testSig},
		{"bearer", "Bearer " + testSig},
		{"missing signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh},
		{"extra component", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Extra=1"},
		{"trailing comma", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ","},
		{"order", "AWS4-HMAC-SHA256 " + sh + ", " + cred + ", " + sig},
		{"lower-case name", "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"space before =", "AWS4-HMAC-SHA256 Credential =AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"credential 4 parts", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + sh + ", " + sig},
		{"credential 6 parts", "AWS4-HMAC-SHA256 Credential=AK/ID/20150830/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_requests, " + sh + ", " + sig},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"space in access key", "AWS4-HMAC-SHA256 Credential=AKID EXAMPLE/20150830/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20151330/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"short date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"date with time", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830T123600Z/us-east-1/iam/aws4_request, " + sh + ", " + sig},
		{"empty region", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//iam/aws4_request, " + sh + ", " + sig},
		{"empty service", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request, " + sh + ", " + sig},
		{"upper-case signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig},
		{"unsorted signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig},
		{"duplicate signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host;x-amz-date, " + sig},
		{"empty signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig},
		{"no signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig},
		{"space in signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host; x-amz-date, " + sig},
		{"short signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + testSig[1:]},
		{"long signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + testSig + "0"},
		{"upper-case signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(testSig)},
		{"non-hex signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.Repeat("g", 64)},
		{"newline", "AWS4-HMAC-SHA256 " + cred + ",\n" + sh + ", " + sig},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAuthorization(tt.v)
			if !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("error = %v, want ErrIncompleteSignature", err)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Errorf("error %#v is not a *VerifyError with a reason", err)
			}
			for _, secret := range []string{testSig, strings.ToUpper(testSig), testSig[1:], "AKIDEXAMPLE:"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the signature", err)
				}
			}
		})
	}
}

func equalAuth(a, b Authorization) bool {
	return a.AccessKeyID == b.AccessKeyID && a.Date == b.Date && a.Region == b.Region && a.Service == b.Service &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.Signature == b.Signature
}

func TestCheckAccessKeyID(t *testing.T) {
	a := Authorization{AccessKeyID: "AKIDLOCAL"}
	if err := a.CheckAccessKeyID("AKIDLOCAL"); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckAccessKeyID("AKIDOTHER"); !errors.Is(err, ErrInvalidAccessKeyID) {
		t.Fatalf("error = %v, want ErrInvalidAccessKeyID", err)
	}
}

// TestVerifySigningSuite verifies the header-signed requests of the AWS signing test suite
// as they are written, with the suite's secret: a known-answer test made by another
// implementation.
func TestVerifySigningSuite(t *testing.T) {
	for _, c := range loadSuite(t) {
		t.Run(c.name, func(t *testing.T) {
			r, body, err := parseSuiteRequest(readSuiteFile(t, c.dir, "header-signed-request.txt"))
			if err != nil {
				t.Fatal(err)
			}
			payloadHash := EmptyPayloadHash
			if c.ctx.SignBody {
				sum := sha256.Sum256(body)
				payloadHash = hex.EncodeToString(sum[:])
			}
			s := New(SoftwareDeriver(c.ctx.Credentials.SecretAccessKey))
			opt := func(o *Options) { o.NormalizeURIPath = c.ctx.Normalize }
			auth, err := s.VerifyHTTP(context.Background(), r, payloadHash, c.ctx.Timestamp.Add(time.Minute), 0, opt)
			if err != nil {
				t.Fatalf("VerifyHTTP: %v", err)
			}
			if auth.AccessKeyID != c.ctx.Credentials.AccessKeyID || auth.Region != c.ctx.Region || auth.Service != c.ctx.Service {
				t.Errorf("auth = %+v", auth)
			}
			if want := strings.TrimSpace(readSuiteFile(t, c.dir, "header-signature.txt")); auth.Signature != want {
				t.Errorf("signature %s, want %s", auth.Signature, want)
			}
			if _, err := New(SoftwareDeriver(otherSecret)).VerifyHTTP(context.Background(), r, payloadHash, c.ctx.Timestamp, 0, opt); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Errorf("other secret: error = %v, want ErrSignatureDoesNotMatch", err)
			}
		})
	}
}

// signedTestRequest is an STS-like POST signed with testSecret at day1, with a
// multi-valued header, the payload hash it was signed with.
func signedTestRequest(t testing.TB, optFns ...func(*Options)) (*http.Request, string) {
	t.Helper()
	return signedTestRequestAt(t, day1, optFns...)
}

func signedTestRequestAt(t testing.TB, at time.Time, optFns ...func(*Options)) (*http.Request, string) {
	t.Helper()
	r := newTestRequest(t)
	r.URL.Path = "/a b/ሴ/x"
	r.URL.RawQuery = "Action=GetSessionToken&Version=2011-06-15&b=2&b=1"
	r.Header.Add("X-Multi", "  alpha   bravo ")
	r.Header.Add("X-Multi", "charlie")
	sum := sha256.Sum256([]byte("Action=GetSessionToken&Version=2011-06-15"))
	ph := hex.EncodeToString(sum[:])
	if err := New(SoftwareDeriver(testSecret), optFns...).SignHTTP(context.Background(), r, ph, Credentials{AccessKeyID: "AKIDLOCAL", SessionToken: "tokSECRET"}, "sts", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r, ph
}

func TestVerifyHTTP(t *testing.T) {
	type req struct {
		r           *http.Request
		payloadHash string
		now         time.Time
		maxSkew     time.Duration
		secret      string
	}
	setAuth := func(r *http.Request, f func(string) string) {
		r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
	}
	tests := []struct {
		name       string
		mutate     func(*req)
		want       error // nil: accepted
		wantDerive bool  // the Deriver is reached
	}{
		{"as signed", func(*req) {}, nil, true},
		{"unsigned header added", func(q *req) { q.r.Header.Set("User-Agent", "aws-cli/2"); q.r.Header.Set("X-Other", "x") }, nil, true},
		{"header keys in other case", func(q *req) {
			q.r.Header["x-multi"] = q.r.Header["X-Multi"]
			delete(q.r.Header, "X-Multi")
		}, nil, true},
		{"within skew", func(q *req) { q.now = day1.Add(-14 * time.Minute) }, nil, true},
		{"within given skew", func(q *req) { q.now, q.maxSkew = day1.Add(59*time.Minute), time.Hour }, nil, true},

		{"no authorization", func(q *req) { q.r.Header.Del("Authorization") }, ErrMissingAuthentication, false},
		{"two authorization", func(q *req) { q.r.Header.Add("Authorization", q.r.Header.Get("Authorization")) }, ErrIncompleteSignature, false},
		{"garbled authorization", func(q *req) { setAuth(q.r, func(v string) string { return strings.Replace(v, ", ", "; ", 1) }) }, ErrIncompleteSignature, false},
		{"sigv4a", func(q *req) {
			setAuth(q.r, func(v string) string { return strings.Replace(v, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })
		}, ErrIncompleteSignature, false},
		{"presigned", func(q *req) { q.r.URL.RawQuery += "&X-Amz-Signature=" + testSig }, ErrIncompleteSignature, false},
		{"presigned without authorization", func(q *req) {
			q.r.Header.Del("Authorization")
			q.r.URL.RawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
		}, ErrIncompleteSignature, false},
		{"host not signed", func(q *req) {
			setAuth(q.r, func(v string) string { return strings.Replace(v, ";host;", ";", 1) })
		}, ErrIncompleteSignature, false},
		{"no x-amz-date", func(q *req) { q.r.Header.Del("X-Amz-Date") }, ErrIncompleteSignature, false},
		{"two x-amz-date", func(q *req) { q.r.Header.Add("X-Amz-Date", "20150830T123600Z") }, ErrIncompleteSignature, false},
		{"x-amz-date malformed", func(q *req) { q.r.Header.Set("X-Amz-Date", "2015-08-30T12:36:00Z") }, ErrIncompleteSignature, false},
		{"x-amz-date other day", func(q *req) { q.r.Header.Set("X-Amz-Date", "20150831T000100Z"); q.now = day1.Add(12 * time.Hour) }, ErrSignatureDoesNotMatch, false},
		{"x-amz-date tampered", func(q *req) { q.r.Header.Set("X-Amz-Date", "20150830T123601Z") }, ErrSignatureDoesNotMatch, true},
		{"too old", func(q *req) { q.now = day1.Add(16 * time.Minute) }, ErrRequestExpired, false},
		{"too new", func(q *req) { q.now = day1.Add(-16 * time.Minute) }, ErrRequestExpired, false},
		{"outside given skew", func(q *req) { q.now, q.maxSkew = day1.Add(2*time.Second), time.Second }, ErrRequestExpired, false},

		{"signed header missing", func(q *req) { q.r.Header.Del("Content-Type") }, ErrSignatureDoesNotMatch, false},
		{"signed content-length missing", func(q *req) { q.r.ContentLength = -1 }, ErrSignatureDoesNotMatch, false},
		{"header value changed", func(q *req) { q.r.Header.Set("Content-Type", "text/plain") }, ErrSignatureDoesNotMatch, true},
		{"header value order", func(q *req) { slices.Reverse(q.r.Header["X-Multi"]) }, ErrSignatureDoesNotMatch, true},
		{"header value added", func(q *req) { q.r.Header.Add("X-Multi", "four") }, ErrSignatureDoesNotMatch, true},
		{"session token changed", func(q *req) { q.r.Header.Set("X-Amz-Security-Token", "other") }, ErrSignatureDoesNotMatch, true},
		{"query changed", func(q *req) { q.r.URL.RawQuery = strings.Replace(q.r.URL.RawQuery, "b=1", "b=3", 1) }, ErrSignatureDoesNotMatch, true},
		{"query added", func(q *req) { q.r.URL.RawQuery += "&c=1" }, ErrSignatureDoesNotMatch, true},
		{"query malformed", func(q *req) { q.r.URL.RawQuery += "&c=%zz" }, ErrSignatureDoesNotMatch, false},
		{"path changed", func(q *req) { q.r.URL.Path += "/" }, ErrSignatureDoesNotMatch, true},
		{"path not escaped twice", func(q *req) {}, ErrSignatureDoesNotMatch, true}, // verified with DisableURIPathEscaping below
		{"method changed", func(q *req) { q.r.Method = http.MethodPut }, ErrSignatureDoesNotMatch, true},
		{"host changed", func(q *req) { q.r.Host = "sts.amazonaws.com" }, ErrSignatureDoesNotMatch, true},
		{"content length changed", func(q *req) { q.r.ContentLength++ }, ErrSignatureDoesNotMatch, true},
		{"payload hash changed", func(q *req) { q.payloadHash = EmptyPayloadHash }, ErrSignatureDoesNotMatch, true},
		{"unsigned payload", func(q *req) { q.payloadHash = UnsignedPayload }, ErrSignatureDoesNotMatch, true},
		{"signature changed", func(q *req) {
			setAuth(q.r, func(v string) string {
				if strings.HasSuffix(v, "0") {
					return v[:len(v)-1] + "1"
				}
				return v[:len(v)-1] + "0"
			})
		}, ErrSignatureDoesNotMatch, true},
		{"credential region changed", func(q *req) {
			setAuth(q.r, func(v string) string { return strings.Replace(v, "/us-east-1/", "/eu-west-1/", 1) })
		}, ErrSignatureDoesNotMatch, true},
		{"wrong secret", func(q *req) { q.secret = otherSecret }, ErrSignatureDoesNotMatch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ph := signedTestRequest(t)
			sigValue := r.Header.Get("Authorization")
			q := &req{r: r, payloadHash: ph, now: day1.Add(time.Minute), secret: testSecret}
			tt.mutate(q)
			d := &countingDeriver{d: SoftwareDeriver(q.secret)}
			var optFns []func(*Options)
			if tt.name == "path not escaped twice" {
				optFns = append(optFns, func(o *Options) { o.DisableURIPathEscaping = true })
			}
			auth, err := New(d).VerifyHTTP(context.Background(), q.r, q.payloadHash, q.now, q.maxSkew, optFns...)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyHTTP: %v", err)
				}
				if auth.AccessKeyID != "AKIDLOCAL" || auth.Service != "sts" {
					t.Errorf("auth = %+v", auth)
				}
			} else {
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				var ve *VerifyError
				if !errors.As(err, &ve) {
					t.Fatalf("error %#v is not a *VerifyError", err)
				}
				_, sig, _ := strings.Cut(sigValue, "Signature=")
				for _, secret := range []string{sig, "tokSECRET", "alpha", "charlie", "urlencoded"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows a signature or header value", err)
					}
				}
			}
			if got := d.calls.Load(); got != map[bool]int64{false: 0, true: 1}[tt.wantDerive] {
				t.Errorf("Deriver called %d times, want it called: %v", got, tt.wantDerive)
			}
		})
	}
}

func TestVerifyHTTPCache(t *testing.T) {
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := New(d, func(o *Options) { o.CacheSigningKey = true })
	defer s.Close()
	// The cache keeps keys of dates that have not ended.
	now := time.Now()
	for range 3 {
		r, ph := signedTestRequestAt(t, now)
		if _, err := s.VerifyHTTP(context.Background(), r, ph, now, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.calls.Load(); got != 1 {
		t.Errorf("Deriver called %d times for 3 requests with the cache, want 1", got)
	}
}

func TestVerifyHTTPContentSHA256(t *testing.T) {
	r, ph := signedTestRequest(t, func(o *Options) { o.AddContentSHA256Header = true })
	s := New(SoftwareDeriver(testSecret))
	if _, err := s.VerifyHTTP(context.Background(), r, ph, day1, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.VerifyHTTP(context.Background(), r, UnsignedPayload, day1, 0)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Err != ErrSignatureDoesNotMatch || !strings.Contains(ve.Reason, "X-Amz-Content-Sha256") {
		t.Errorf("error = %v, want a mismatch naming X-Amz-Content-Sha256", err)
	}
}

func TestVerifyHTTPStringToSign(t *testing.T) {
	r, _ := signedTestRequest(t)
	_, err := New(SoftwareDeriver(testSecret)).VerifyHTTP(context.Background(), r, EmptyPayloadHash, day1, 0)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v", err)
	}
	if !strings.HasPrefix(ve.StringToSign, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/sts/aws4_request\n") {
		t.Errorf("StringToSign = %q", ve.StringToSign)
	}
	if strings.Contains(err.Error(), ve.StringToSign) {
		t.Error("Error prints the string to sign")
	}
}

func TestVerifyHTTPInvalidArguments(t *testing.T) {
	r, ph := signedTestRequest(t)
	s := New(SoftwareDeriver(testSecret))
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, err := range map[string]error{
		"nil request":    func() error { _, err := s.VerifyHTTP(ctx, nil, ph, day1, 0); return err }(),
		"empty hash":     func() error { _, err := s.VerifyHTTP(ctx, r, "", day1, 0); return err }(),
		"hash with line": func() error { _, err := s.VerifyHTTP(ctx, r, ph+"\nx", day1, 0); return err }(),
		"zero now":       func() error { _, err := s.VerifyHTTP(ctx, r, ph, time.Time{}, 0); return err }(),
		"no deriver":     func() error { _, err := (&Signer{}).VerifyHTTP(ctx, r, ph, day1, 0); return err }(),
		"canceled":       func() error { _, err := s.VerifyHTTP(canceled, r, ph, day1, 0); return err }(),
	} {
		var ve *VerifyError
		if err == nil || errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "sigv4: ") {
			t.Errorf("%s: error = %v, want a plain sigv4 error", name, err)
		}
	}
}

func TestVerifyHTTPDeriverError(t *testing.T) {
	errDevice := errors.New("device unplugged")
	r, ph := signedTestRequest(t)
	s := New(DeriverFunc(func(context.Context, string) ([]byte, error) { return nil, errDevice }))
	if _, err := s.VerifyHTTP(context.Background(), r, ph, day1, 0); !errors.Is(err, errDevice) {
		t.Errorf("error = %v, want the Deriver's", err)
	}
}

// TestVerifyMatchesSigners: whatever SignHTTP or the SDK signs (over the generated requests
// of sdk_test.go), VerifyHTTP accepts with the same secret, and refuses with another
// secret or after one part of the request changed.
func TestVerifyMatchesSigners(t *testing.T) {
	rng := rand.New(rand.NewPCG(20130524, 2015))
	ctx := context.Background()
	const n = 3000
	verified := 0
	for i := range n {
		c := genRequest(rng)
		if !sdkComparable(c) {
			continue
		}
		optFn := func(o *Options) { o.DisableURIPathEscaping = c.opts.DisableURIPathEscaping }
		verifier := New(SoftwareDeriver(c.secret))
		check := func(who string, r *http.Request) {
			t.Helper()
			auth, err := verifier.VerifyHTTP(ctx, r, c.payloadHash, c.t, 0, optFn)
			if err != nil {
				t.Fatalf("case %d: VerifyHTTP of what %s signed: %v\ncase %+v\nAuthorization %s", i, who, err, c, r.Header.Get("Authorization"))
			}
			if auth.AccessKeyID != c.creds.AccessKeyID {
				t.Fatalf("case %d: access key %q", i, auth.AccessKeyID)
			}
			if _, err := New(SoftwareDeriver(c.secret+"x")).VerifyHTTP(ctx, r, c.payloadHash, c.t, 0, optFn); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Fatalf("case %d: other secret: error = %v", i, err)
			}
			what, tampered := tamper(rng, r, c.payloadHash)
			if _, err := verifier.VerifyHTTP(ctx, tampered, c.payloadHash, c.t, 0, optFn); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Fatalf("case %d: %s changed after %s signed: error = %v", i, what, who, err)
			}
		}

		mine := c.newRequest()
		if err := New(SoftwareDeriver(c.secret), func(o *Options) { *o = c.opts }).SignHTTP(ctx, mine, c.payloadHash, c.creds, c.service, c.region, c.t); err != nil {
			t.Fatalf("SignHTTP: %v", err)
		}
		check("SignHTTP", mine)

		theirs := c.newRequest()
		if c.opts.AddContentSHA256Header {
			theirs.Header.Set(headerContentSHA256, c.payloadHash)
		}
		sdk := sdkv4.NewSigner(func(o *sdkv4.SignerOptions) {
			o.DisableURIPathEscaping = c.opts.DisableURIPathEscaping
			o.DisableSessionToken = c.opts.UnsignedSessionToken || c.opts.DisableSessionToken
		})
		sdkCreds := aws.Credentials{AccessKeyID: c.creds.AccessKeyID, SecretAccessKey: c.secret, SessionToken: c.creds.SessionToken}
		if err := sdk.SignHTTP(ctx, sdkCreds, theirs, c.payloadHash, c.service, c.region, c.t); err != nil {
			t.Fatalf("SDK SignHTTP: %v", err)
		}
		check("the SDK", theirs)
		verified++
	}
	if verified < n/2 {
		t.Fatalf("only %d of %d cases verified", verified, n)
	}
	t.Logf("%d generated requests verified", verified)
}

// tamper returns a copy of r with one signed part changed.
func tamper(rng *rand.Rand, r *http.Request, payloadHash string) (string, *http.Request) {
	c := r.Clone(context.Background())
	auth, _ := ParseAuthorization(r.Header.Get("Authorization"))
	for {
		switch rng.IntN(8) {
		case 0:
			c.Method += "X"
			return "method", c
		case 1:
			if c.URL.Opaque != "" {
				c.URL.Opaque += "/x" // "x" could extend the host part of "//host"
			} else {
				c.URL.Path += "x"
				c.URL.RawPath = ""
			}
			return "path", c
		case 2:
			if c.URL.RawQuery != "" {
				c.URL.RawQuery += "&"
			}
			c.URL.RawQuery += "tampered=1"
			return "query", c
		case 3:
			c.Host = "tampered.example.com"
			return "host", c
		case 4:
			// The date must stay in the credential's day and within skew to reach the
			// signature check: move by one second.
			t, _ := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
			if t.Add(time.Second).Format(dateFormat) == t.Format(dateFormat) {
				c.Header.Set("X-Amz-Date", t.Add(time.Second).Format(amzDateFormat))
			} else {
				c.Header.Set("X-Amz-Date", t.Add(-time.Second).Format(amzDateFormat))
			}
			return "X-Amz-Date", c
		case 5:
			var names []string
			for _, n := range auth.SignedHeaders {
				if n != "host" && n != "x-amz-date" && n != "content-length" {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				continue
			}
			n := names[rng.IntN(len(names))]
			c.Header.Add(n, "tampered")
			return "header " + n, c
		case 6:
			if !slices.Contains(auth.SignedHeaders, "content-length") {
				continue
			}
			c.ContentLength++
			return "content-length", c
		case 7:
			// The signature of another request.
			v := c.Header.Get("Authorization")
			i := strings.LastIndex(v, "=")
			sum := sha256.Sum256([]byte(v))
			c.Header.Set("Authorization", v[:i+1]+hex.EncodeToString(sum[:]))
			return "signature", c
		}
	}
}

// TestVerifyHTTPServer sends requests signed by aws-sdk-go-v2 through a real net/http
// server on 127.0.0.1 and verifies them in the handler, as a proxy does.
func TestVerifyHTTPServer(t *testing.T) {
	const localID, localSecret = "AKIDLOCALPROXY", "localSecretOfTheProxyClients/0123456789"
	verifier := New(SoftwareDeriver(localSecret))
	type result struct {
		auth Authorization
		err  error
	}
	results := make(chan result, 1)
	now := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			results <- result{err: err}
			return
		}
		ph := r.Header.Get("X-Amz-Content-Sha256")
		if ph == "" {
			sum := sha256.Sum256(body)
			ph = hex.EncodeToString(sum[:])
		}
		// The proxy's order: parse, check the access key, verify with the service's
		// path rules.
		auth, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err == nil {
			err = auth.CheckAccessKeyID(localID)
		}
		if err == nil {
			auth, err = verifier.VerifyHTTP(r.Context(), r, ph, now, 0, func(o *Options) {
				o.DisableURIPathEscaping = auth.Service == "s3"
			})
		}
		results <- result{auth, err}
	}))
	defer srv.Close()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	type testCase struct {
		name     string
		method   string
		path     string // URL.Path
		rawPath  string // URL.RawPath, for S3 keys
		query    string
		header   [][2]string
		body     string
		service  string
		s3Hash   string // X-Amz-Content-Sha256 ("" : none)
		token    string
		secret   string
		keyID    string
		at       time.Time
		afterSig func(*http.Request)
		want     error
	}
	tests := []testCase{
		{name: "sts form", method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15",
			header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, service: "sts"},
		{name: "session token", method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15", service: "sts", token: "FwoGZXIvYXdzEXAMPLE/+="},
		{name: "json api", method: "POST", path: "/", body: `{"TableName":"t"}`, service: "dynamodb",
			header: [][2]string{{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "DynamoDB_20120810.DescribeTable"}}},
		{name: "rest path and query", method: "GET", path: "/2015-03-31/functions/my fn:1/ሴ", query: "Marker=a%2Fb&MaxItems=10&empty=&key&x=a+b", service: "lambda"},
		{name: "multi-valued and spaced headers", method: "GET", path: "/", service: "execute-api",
			header: [][2]string{{"X-Custom", "  a   b  "}, {"X-Custom", "c"}, {"X-Other", "\"quoted   value\""}}},
		{name: "s3 put", method: "PUT", path: "/bucket/key with space+plus/ሴ=&$@", rawPath: "/bucket/key%20with%20space%2Bplus/%E1%88%B4%3D%26%24%40",
			query: "x-id=PutObject", body: "hello", service: "s3", s3Hash: "sha256",
			header: [][2]string{{"Content-Type", "text/plain"}, {"X-Amz-Meta-Owner", "me"}, {"Expect", "100-continue"}}},
		{name: "s3 unsigned payload", method: "PUT", path: "/bucket/a/b//c", rawPath: "/bucket/a/b//c", body: "data", service: "s3", s3Hash: UnsignedPayload},
		{name: "s3 get with encoded slash", method: "GET", path: "/bucket/a/b", rawPath: "/bucket/a%2Fb", query: "versionId=3", service: "s3", s3Hash: "sha256"},

		{name: "wrong secret", method: "GET", path: "/", service: "sts", secret: "notTheLocalSecret", want: ErrSignatureDoesNotMatch},
		{name: "wrong access key", method: "GET", path: "/", service: "sts", keyID: "AKIDSOMEONEELSE", want: ErrInvalidAccessKeyID},
		{name: "skewed", method: "GET", path: "/", service: "sts", at: now.Add(-20 * time.Minute), want: ErrRequestExpired},
		{name: "tampered header", method: "POST", path: "/", body: "{}", service: "dynamodb",
			header:   [][2]string{{"X-Amz-Target", "DynamoDB_20120810.ListTables"}},
			afterSig: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable") }, want: ErrSignatureDoesNotMatch},
		{name: "tampered query", method: "GET", path: "/", query: "Action=ListUsers", service: "iam",
			afterSig: func(r *http.Request) { r.URL.RawQuery = "Action=DeleteUser" }, want: ErrSignatureDoesNotMatch},
		{name: "tampered path", method: "GET", path: "/bucket/a", rawPath: "/bucket/a", service: "s3", s3Hash: "sha256",
			afterSig: func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/bucket/b", "" }, want: ErrSignatureDoesNotMatch},
		{name: "tampered body", method: "POST", path: "/", body: "Action=GetCallerIdentity", service: "sts",
			afterSig: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader("Action=DeleteCallerIdent"))
				r.GetBody = nil
			}, want: ErrSignatureDoesNotMatch},
		{name: "tampered body hash", method: "PUT", path: "/bucket/k", rawPath: "/bucket/k", body: "x", service: "s3", s3Hash: "sha256",
			afterSig: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }, want: ErrSignatureDoesNotMatch},
		{name: "tampered date", method: "GET", path: "/", service: "sts",
			afterSig: func(r *http.Request) {
				r.Header.Set("X-Amz-Date", now.Add(time.Second).UTC().Format(amzDateFormat))
			}, want: ErrSignatureDoesNotMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := *base
			u.Path, u.RawPath, u.RawQuery = tt.path, tt.rawPath, tt.query
			r, err := http.NewRequest(tt.method, u.String(), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body == "" {
				r.Body, r.ContentLength = http.NoBody, 0
			}
			for _, h := range tt.header {
				r.Header.Add(h[0], h[1])
			}
			sum := sha256.Sum256([]byte(tt.body))
			ph := hex.EncodeToString(sum[:])
			switch tt.s3Hash {
			case "":
			case "sha256":
				r.Header.Set("X-Amz-Content-Sha256", ph)
			default:
				ph = tt.s3Hash
				r.Header.Set("X-Amz-Content-Sha256", ph)
			}
			creds := aws.Credentials{AccessKeyID: localID, SecretAccessKey: localSecret, SessionToken: tt.token}
			if tt.secret != "" {
				creds.SecretAccessKey = tt.secret
			}
			if tt.keyID != "" {
				creds.AccessKeyID = tt.keyID
			}
			at := now
			if !tt.at.IsZero() {
				at = tt.at
			}
			// A fresh SDK signer per case: its key cache is keyed by access key ID, not
			// by secret.
			signer := sdkv4.NewSigner(func(o *sdkv4.SignerOptions) { o.DisableURIPathEscaping = tt.service == "s3" })
			if err := signer.SignHTTP(context.Background(), creds, r, ph, tt.service, "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			if tt.afterSig != nil {
				tt.afterSig(r)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			res := <-results
			if tt.want == nil {
				if res.err != nil {
					t.Fatalf("VerifyHTTP: %v", res.err)
				}
				if res.auth.Service != tt.service || res.auth.AccessKeyID != localID {
					t.Errorf("auth = %+v", res.auth)
				}
				return
			}
			if !errors.Is(res.err, tt.want) {
				t.Fatalf("error = %v, want %v", res.err, tt.want)
			}
		})
	}
}

// TestVerifyHTTPRawRequestLine: a client that sends characters net/url re-escapes ("{",
// "|", raw UTF-8) signs the path as it sent it; VerifyHTTP takes the path from the request
// line, not from r.URL.EscapedPath.
func TestVerifyHTTPRawRequestLine(t *testing.T) {
	const rawPath = "/a{b}|c/ሴ"
	errs := make(chan error, 1)
	verifier := New(SoftwareDeriver(testSecret))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI != rawPath+"?q=1" {
			errs <- fmt.Errorf("RequestURI = %q", r.RequestURI)
			return
		}
		if r.URL.EscapedPath() == rawPath {
			errs <- fmt.Errorf("EscapedPath kept %q: the test proves nothing", rawPath)
			return
		}
		_, err := verifier.VerifyHTTP(r.Context(), r, EmptyPayloadHash, day1, 0)
		errs <- err
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	// Sign a request whose literal path is rawPath (URL.Opaque is sent as written).
	r := &http.Request{Method: "GET", Host: host, Header: http.Header{},
		URL: &url.URL{Scheme: "http", Host: host, Opaque: "//" + host + rawPath, RawQuery: "q=1"}}
	if err := New(SoftwareDeriver(testSecret)).SignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "execute-api", "us-east-1", day1); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s?q=1 HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\nConnection: close\r\n\r\n",
		rawPath, host, r.Header.Get("X-Amz-Date"), r.Header.Get("Authorization"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerifyHTTP(b *testing.B) {
	r, ph := newBenchSTSRequest(b)
	s := New(SoftwareDeriver(testSecret), func(o *Options) { o.CacheSigningKey = true })
	if err := s.SignHTTP(context.Background(), r, ph, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", benchTime); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.VerifyHTTP(context.Background(), r, ph, benchTime, 0); err != nil {
			b.Fatal(err)
		}
	}
}
