package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzParseAuthorization: never panics; what it accepts differs from the canonical form
// only in spacing and parses back to the same value; what it refuses wraps
// ErrIncompleteSignature and never quotes a run of hex digits from the input (a
// signature).
func FuzzParseAuthorization(f *testing.F) {
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request"
	for _, s := range []string{
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;x-amz-date, Signature=" + testSig,
		"AWS4-HMAC-SHA256\t" + cred + ",SignedHeaders=host,Signature=" + testSig + "  ",
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, Signature=" + testSig,
		"AWS4-HMAC-SHA256 Credential=AKID/20151330/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=" + testSig,
		"AWS4-ECDSA-P256-SHA256 " + cred + ", SignedHeaders=host, Signature=" + testSig,
		"AWS AKIDEXAMPLE:" + testSig,
		"AWS4-HMAC-SHA256" + testSig,
		"AWS4-HMAC-SHA256 Signature=" + testSig + ", " + cred + ", SignedHeaders=host",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, err := ParseAuthorization(v)
		if err != nil {
			if !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("error %v does not wrap ErrIncompleteSignature", err)
			}
			msg := err.Error()
			for i := 0; i+16 <= len(v); i++ {
				if w := v[i : i+16]; strings.Trim(w, "0123456789abcdefABCDEF") == "" && strings.Contains(msg, w) {
					t.Fatalf("error %q quotes %q from the input", msg, w)
				}
			}
			return
		}
		canon := authorization(a.AccessKeyID, scope{date: a.Date, region: a.Region, service: a.Service}, strings.Join(a.SignedHeaders, ";"), a.Signature)
		b, err := ParseAuthorization(canon)
		if err != nil || !equalAuth(a, b) {
			t.Fatalf("canonical form %q of %q does not parse back: %v, %+v", canon, v, err, b)
		}
		strip := strings.NewReplacer(" ", "", "\t", "")
		if strip.Replace(v) != strip.Replace(canon) {
			t.Fatalf("accepted %q, which is more than a spacing variant of %q", v, canon)
		}
		if !validHexSignature(a.Signature) || !validScopeDate(a.Date) || !slices.IsSorted(a.SignedHeaders) {
			t.Fatalf("accepted invalid parts: %+v", a)
		}
	})
}

// FuzzVerifyHTTP signs a fuzzed request with testSecret, changes one part of it as the
// fuzzer says, and verifies it. VerifyHTTP must never panic, never accept with another
// secret, and whatever it accepts must carry the signature aws-sdk-go-v2 computes for the
// request as verified: the SDK, with the secret, is the independent judge of "this
// signature was made with the key over this request".
func FuzzVerifyHTTP(f *testing.F) {
	f.Add("POST", "sts.amazonaws.com", "/", "Action=GetSessionToken&Version=2011-06-15", "Content-Type:application/x-www-form-urlencoded", uint8(2), uint8(0), "", "")
	f.Add("GET", "example.amazonaws.com", "/a b/ሴ/%41", "b=2&a=1&a=0", "My-Header:  a   b  \nmy-header:c", uint8(0), uint8(1), "my-header", "d")
	f.Add("PUT", "bucket.s3.amazonaws.com", "/key+plus/%2F", "x-id=PutObject", "X-Amz-Meta-A:b", uint8(4|16|64), uint8(2), "X-Amz-Meta-A", " b ")
	f.Add("GET", "127.0.0.1:8080", "/", "a=1", "", uint8(0), uint8(4), "a=1&a=1", "")
	f.Add("GET", "127.0.0.1:8080", "/x", "", "", uint8(1), uint8(5), "/x/", "")
	f.Add("GET", "h", "/", "", "", uint8(0), uint8(8), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+testSig, "")
	f.Add("GET", "h", "/", "", "", uint8(0), uint8(9), "20150830T123601Z", "")
	f.Add("GET", "h", "/", "", "", uint8(0), uint8(12), "AKIDEXAMPLE", "AKIDOTHER")
	f.Add("GET", "h", "/", "", "", uint8(0), uint8(12), ", ", ",")
	f.Add("GET", "h", "/", "", "", uint8(0), uint8(12), "host;", "")
	f.Add("GET", "h", "/a", "", "", uint8(0), uint8(13), "/a?z=1", "")
	f.Add("POST", "h", "/", "", "X-A:1", uint8(2), uint8(11), "", "")
	f.Fuzz(func(t *testing.T, method, host, path, rawQuery, headerBlob string, flags, mut uint8, a, b string) {
		ctx := context.Background()
		r := &http.Request{Method: method, URL: &url.URL{Scheme: "https", Host: host, RawQuery: rawQuery}, Header: make(http.Header)}
		if flags&1 != 0 {
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
		if flags&2 != 0 {
			r.ContentLength = int64(len(headerBlob))
		}
		opts := Options{
			DisableURIPathEscaping: flags&4 != 0,
			UnsignedSessionToken:   flags&8 != 0,
			AddContentSHA256Header: flags&16 != 0,
		}
		payloadHash := EmptyPayloadHash
		if flags&32 != 0 {
			payloadHash = UnsignedPayload
		}
		creds := Credentials{AccessKeyID: "AKIDEXAMPLE"}
		if flags&64 != 0 {
			creds.SessionToken = "token/with+chars="
		}
		setOpts := func(o *Options) { *o = opts }
		// A request SignHTTP refuses stays unsigned; it must be refused all the same.
		_ = New(SoftwareDeriver(testSecret), setOpts).SignHTTP(ctx, r, payloadHash, creds, "service", "us-east-1", day1)

		switch mut % 14 {
		case 1:
			r.Header[a] = append(r.Header[a], b)
		case 2:
			r.Header.Set(a, b)
		case 3:
			r.Header.Del(a)
		case 4:
			r.URL.RawQuery = a
		case 5:
			r.URL.Path, r.URL.RawPath, r.URL.Opaque = a, "", ""
		case 6:
			r.Method = a
		case 7:
			r.Host = a
		case 8:
			r.Header.Set("Authorization", a)
		case 9:
			r.Header.Set("X-Amz-Date", a)
		case 10:
			payloadHash = a
		case 11:
			r.ContentLength = int64(len(a)) - 1
		case 12:
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), a, b, 1))
		case 13:
			r.RequestURI = a
		}

		now := day1.Add(time.Duration(flags>>7) * 10 * time.Minute)
		auth, err := New(SoftwareDeriver(testSecret), setOpts).VerifyHTTP(ctx, r, payloadHash, now, 0)
		if _, err2 := New(SoftwareDeriver(otherSecret), setOpts).VerifyHTTP(ctx, r, payloadHash, now, 0); err2 == nil {
			t.Fatal("accepted with another secret")
		}
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) && !strings.HasPrefix(err.Error(), "sigv4: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if got := sdkSignature(t, r, auth, payloadHash, opts); got != auth.Signature {
			t.Fatalf("accepted a request the SDK signs differently\nauth %+v\nsdk signature %s\nrequest %+v", auth, got, r)
		}
	})
}

// sdkSignature signs, with aws-sdk-go-v2 and testSecret, the request VerifyHTTP saw: its
// method, path as received, query, and exactly the headers auth lists, at X-Amz-Date.
func sdkSignature(t *testing.T, r *http.Request, auth Authorization, payloadHash string, opts Options) string {
	t.Helper()
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	host := requestHost(r)
	req := &http.Request{
		Method: method,
		URL:    &url.URL{Scheme: "https", Host: host, Opaque: "//" + host + receivedPath(r), RawQuery: r.URL.RawQuery},
		Host:   host,
		Header: make(http.Header),
	}
	h := foldHeader(r.Header)
	for _, n := range auth.SignedHeaders {
		switch n {
		case "host", "x-amz-date":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			req.Header[http.CanonicalHeaderKey(n)] = h[n]
		}
	}
	at, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("accepted X-Amz-Date %q: %v", r.Header.Get("X-Amz-Date"), err)
	}
	sdk := sdkv4.NewSigner(func(o *sdkv4.SignerOptions) { o.DisableURIPathEscaping = opts.DisableURIPathEscaping })
	creds := aws.Credentials{AccessKeyID: auth.AccessKeyID, SecretAccessKey: testSecret}
	if err := sdk.SignHTTP(context.Background(), creds, req, payloadHash, auth.Service, auth.Region, at); err != nil {
		t.Fatalf("SDK SignHTTP: %v", err)
	}
	got, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatalf("SDK Authorization: %v", err)
	}
	if !slices.Equal(got.SignedHeaders, auth.SignedHeaders) {
		t.Fatalf("SDK signed headers %q, verified %q", got.SignedHeaders, auth.SignedHeaders)
	}
	return got.Signature
}
