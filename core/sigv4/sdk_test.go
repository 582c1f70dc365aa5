package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The property: with the secret in software, this package and aws-sdk-go-v2's v4.Signer
// produce the same signed request for every request both accept. Where this package
// refuses a request (see SignHTTP), the SDK signs something no server could verify, and
// sdkComparable says which.

// genCase is one generated signing problem. newRequest builds a fresh *http.Request from it,
// so each signer gets its own copy.
type genCase struct {
	method      string
	scheme      string
	host        string
	path        string // URL.Path, or with opaque the literal path
	opaque      bool
	rawQuery    string
	headers     [][2]string // added with Header.Add, in order
	body        []byte
	payloadHash string
	secret      string
	creds       Credentials
	service     string
	region      string
	t           time.Time
	expires     time.Duration
	opts        Options
}

func (c *genCase) newRequest() *http.Request {
	u := &url.URL{Scheme: c.scheme, Host: c.host, RawQuery: c.rawQuery}
	if c.opaque {
		u.Opaque = "//" + c.host + c.path
	} else {
		u.Path = c.path
	}
	r := &http.Request{Method: c.method, URL: u, Header: make(http.Header)}
	for _, h := range c.headers {
		r.Header.Add(h[0], h[1])
	}
	if len(c.body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(c.body))
		r.ContentLength = int64(len(c.body))
	}
	return r
}

// sdkComparable reports whether this package is expected to sign c (and then to agree with
// the SDK) rather than refuse it.
func sdkComparable(c *genCase) bool {
	if !validHeaderName(c.method) || !validHost(sanitizeHost(c.scheme, c.host)) {
		return false
	}
	if !validPath(uriPath(c.newRequest().URL)) {
		return false
	}
	if _, err := url.ParseQuery(c.rawQuery); err != nil {
		return false
	}
	for _, h := range c.headers {
		if !validHeaderName(h[0]) || !validHeaderValue(h[1]) {
			return false
		}
	}
	// A token DisableSessionToken leaves out is not checked: it goes nowhere.
	return (c.opts.DisableSessionToken || validHeaderValue(c.creds.SessionToken)) && validScopePart(c.creds.AccessKeyID)
}

// checkAgainstSDK signs c with both signers, by header and by presigned URL, and reports any
// difference.
func checkAgainstSDK(t *testing.T, c *genCase) {
	t.Helper()
	ctx := context.Background()
	s := New(SoftwareDeriver(c.secret), func(o *Options) { *o = c.opts })
	// A fresh SDK signer per case: its key cache is keyed by access key ID, not by secret.
	sdk := sdkv4.NewSigner(func(o *sdkv4.SignerOptions) {
		o.DisableURIPathEscaping = c.opts.DisableURIPathEscaping
		o.DisableHeaderHoisting = c.opts.DisableHeaderHoisting
		o.DisableSessionToken = c.opts.UnsignedSessionToken || c.opts.DisableSessionToken
	})
	sdkCreds := aws.Credentials{AccessKeyID: c.creds.AccessKeyID, SecretAccessKey: c.secret, SessionToken: c.creds.SessionToken}
	comparable := sdkComparable(c)

	// Header signing.
	mine := c.newRequest()
	err := s.SignHTTP(ctx, mine, c.payloadHash, c.creds, c.service, c.region, c.t)
	if !comparable {
		if err == nil {
			t.Fatalf("SignHTTP accepted a request it should refuse: %+v", c)
		}
		return
	}
	if err != nil {
		t.Fatalf("SignHTTP: %v (case %+v)", err, c)
	}
	theirs := c.newRequest()
	if c.opts.AddContentSHA256Header {
		// The SDK's S3 middleware sets the header before signing; do the same by hand.
		theirs.Header.Set(headerContentSHA256, c.payloadHash)
	}
	if err := sdk.SignHTTP(ctx, sdkCreds, theirs, c.payloadHash, c.service, c.region, c.t); err != nil {
		t.Fatalf("SDK SignHTTP: %v", err)
	}
	if c.opts.UnsignedSessionToken && !c.opts.DisableSessionToken && c.creds.SessionToken != "" {
		// The SDK leaves the token out entirely; this package sends it unsigned.
		if got := mine.Header.Get(headerSecurityToken); got != c.creds.SessionToken {
			t.Errorf("unsigned session token header = %q, want the token", got)
		}
		theirs.Header.Set(headerSecurityToken, c.creds.SessionToken)
	}
	if !reflect.DeepEqual(mine.Header, theirs.Header) {
		t.Errorf("headers differ\n mine %q\n  sdk %q\ncase %+v", mine.Header, theirs.Header, c)
	}
	if mine.URL.RawQuery != theirs.URL.RawQuery || mine.Host != theirs.Host {
		t.Errorf("query/host differ: mine %q %q, sdk %q %q", mine.URL.RawQuery, mine.Host, theirs.URL.RawQuery, theirs.Host)
	}

	// Presigning. The SDK expects the caller to put X-Amz-Expires in the query; its
	// DisableSessionToken drops the token, which this package then appends unsigned.
	mine = c.newRequest()
	gotURL, gotHeader, err := s.PresignHTTP(ctx, mine, c.payloadHash, c.creds, c.service, c.region, c.t, c.expires)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	theirs = c.newRequest()
	q, _ := url.ParseQuery(theirs.URL.RawQuery)
	q.Set(queryExpires, strconv.Itoa(int(c.expires/time.Second)))
	theirs.URL.RawQuery = q.Encode()
	wantURL, wantHeader, err := sdk.PresignHTTP(ctx, sdkCreds, theirs, c.payloadHash, c.service, c.region, c.t)
	if err != nil {
		t.Fatalf("SDK PresignHTTP: %v", err)
	}
	if c.opts.UnsignedSessionToken && !c.opts.DisableSessionToken && c.creds.SessionToken != "" {
		base, sig, _ := strings.Cut(wantURL, "&"+querySignature+"=")
		wantURL = base + "&" + querySecurityToken + "=" + uriEncode(c.creds.SessionToken, false) + "&" + querySignature + "=" + sig
	}
	if gotURL != wantURL {
		t.Errorf("presigned URL\n mine %s\n  sdk %s\ncase %+v", gotURL, wantURL, c)
	}
	if !reflect.DeepEqual(gotHeader, wantHeader) {
		t.Errorf("presign signed headers\n mine %q\n  sdk %q", gotHeader, wantHeader)
	}
}

// Pools for generated cases: reserved characters, UTF-8, percent signs, repeated keys,
// whitespace of every kind the SDK treats specially.
var (
	genMethods  = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "PROPFIND"}
	genHosts    = []string{"sts.amazonaws.com", "sts.us-east-1.amazonaws.com", "127.0.0.1:5000", "localhost:443", "example.com:80", "[::1]:8080", "bucket.s3.amazonaws.com", "EXAMPLE.com"}
	genSegments = []string{"", ".", "..", "a", "example", "a b", "ሴ", "é", "%", "%41", "%2F", "+", "=", "&", "?", "#", "~", "-._~", "a;b", "!$'()*,", "@:", "[]", "%zz", "日本語", "\x7f", "\t"}
	genWords    = []string{"", "a", "Param1", "value1", "Action", "GetSessionToken", "2011-06-15", "ሴ", "a b", "a+b", "a%20b", "%E1%88%B4", "/", "=", "&amp", "~", "-._~", "*", "'!()", "x@y", "é", "%2B", "X-Amz-Meta"}
	genHeaders  = []string{"Content-Type", "X-Amz-Target", "My-Header", "X-Amz-Meta-Foo", "Accept", "User-Agent", "X-Amzn-Trace-Id", "Expect", "Transfer-Encoding", "Amz-Sdk-Request", "Amz-Sdk-Invocation-Id", "X-Amz-User-Agent", "Content-Md5", "x-custom", "Range", "Cache-Control", "X-Amz-Object-Lock-Mode", "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Mode", "X-Amz-Expected-Bucket-Owner", "X-Amz-Request-Payer", "Content-Length", "X-Amz-Date", "Authorization", "X-Amz-Acl"}
	genValues   = []string{"", "v", "value1", " value1 ", "a   b   c", "  lead", "trail  ", "a\tb", "\ttab", "tab\t", "a, b", "application/x-www-form-urlencoded; charset=utf-8", "ሴ", "é", "\"a   b   c\"", " ", "\u00a0nbsp\u00a0", "\u2003em", "attempt=1; max=3"}
	genTokens   = []string{"", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="}
	// Rarely drawn: what this package must refuse.
	genBadHeaders = []string{"Bad Name", "Bad:Name", "", "Bad\x00"}
	genBadValues  = []string{"x\x00y", "line\nbreak", "cr\r", "del\x7f"}
	genBadWords   = []string{"%zz", ";", "a;b", "%"}
	genRegions    = []string{"us-east-1", "eu-west-2", "cn-north-1", "us-gov-west-1"}
	genServices   = []string{"sts", "s3", "execute-api", "iam", "service"}
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// genRequest draws a case. Most are well-formed; a few carry something this package must
// refuse (bad header names or values, malformed queries; raw query words can also be
// malformed, e.g. "%E1%88%B4" next to "%").
func genRequest(rng *rand.Rand) *genCase {
	c := &genCase{
		method:  pick(rng, genMethods),
		scheme:  pick(rng, []string{"https", "http"}),
		host:    pick(rng, genHosts),
		opaque:  rng.IntN(4) == 0,
		secret:  pick(rng, []string{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "s"}),
		service: pick(rng, genServices),
		region:  pick(rng, genRegions),
		t:       time.Unix(rng.Int64N(4102444800), rng.Int64N(1e9)), // 1970..2100
		expires: time.Duration(1+rng.IntN(604800)) * time.Second,
	}
	c.creds = Credentials{AccessKeyID: pick(rng, []string{"AKIDEXAMPLE", "ASIAXAMPLE0000000000"}), SessionToken: pick(rng, genTokens)}

	var p strings.Builder
	for range rng.IntN(5) {
		p.WriteByte('/')
		seg := pick(rng, genSegments)
		if c.opaque {
			// A literal path is sent as written; keep it to what can be on a request line.
			seg = strings.NewReplacer("?", "", "#", "", " ", "%20", "\t", "", "\x7f", "").Replace(seg)
		}
		p.WriteString(seg)
	}
	if rng.IntN(3) == 0 {
		p.WriteByte('/')
	}
	c.path = p.String()

	var q []string
	for range rng.IntN(6) {
		k, v := pick(rng, genWords), pick(rng, genWords)
		if rng.IntN(50) == 0 {
			v = pick(rng, genBadWords)
		}
		switch rng.IntN(4) {
		case 0: // properly encoded
			q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(v))
		case 1: // path-style encoding (space as %20, "+" kept)
			q = append(q, url.PathEscape(k)+"="+url.PathEscape(v))
		case 2: // raw
			q = append(q, k+"="+v)
		default: // key only
			q = append(q, url.QueryEscape(k))
		}
		if rng.IntN(4) == 0 && len(q) > 0 { // repeated key
			q = append(q, q[len(q)-1])
		}
	}
	c.rawQuery = strings.Join(q, "&")

	for range rng.IntN(6) {
		name := pick(rng, genHeaders)
		if rng.IntN(100) == 0 {
			name = pick(rng, genBadHeaders)
		}
		for range 1 + rng.IntN(3) { // multi-value
			v := pick(rng, genValues)
			if rng.IntN(100) == 0 {
				v = pick(rng, genBadValues)
			}
			c.headers = append(c.headers, [2]string{name, v})
		}
	}

	if rng.IntN(2) == 0 {
		c.body = make([]byte, rng.IntN(200))
		for i := range c.body {
			c.body[i] = byte(rng.IntN(256))
		}
	}
	switch rng.IntN(5) {
	case 0:
		c.payloadHash = UnsignedPayload
	case 4:
		c.payloadHash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	case 1:
		c.payloadHash = EmptyPayloadHash
	default:
		sum := sha256.Sum256(c.body)
		c.payloadHash = hex.EncodeToString(sum[:])
	}
	c.opts = Options{
		DisableURIPathEscaping: rng.IntN(4) == 0,
		DisableHeaderHoisting:  rng.IntN(4) == 0,
		UnsignedSessionToken:   rng.IntN(4) == 0,
		AddContentSHA256Header: rng.IntN(3) == 0,
		CacheSigningKey:        rng.IntN(2) == 0,
		DisableSessionToken:    rng.IntN(6) == 0,
	}
	return c
}

// TestMatchesSDKRandom runs the property over a few thousand generated cases with a fixed
// seed, so a failure reproduces.
func TestMatchesSDKRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(20150830, 123600))
	const n = 4000
	compared := 0
	for i := range n {
		c := genRequest(rng)
		if sdkComparable(c) {
			compared++
		}
		checkAgainstSDK(t, c)
		if t.Failed() {
			t.Fatalf("stopped at case %d", i)
		}
	}
	// The generator must mostly produce requests both signers accept, or the test would
	// prove little.
	if compared < n*3/4 {
		t.Fatalf("only %d of %d generated cases were comparable", compared, n)
	}
	t.Logf("%d of %d cases compared with the SDK, the rest refused as expected", compared, n)
}

// FuzzMatchesSDK checks the property on fuzzed requests. Header lines in headerBlob are
// "Name:value" separated by "\n"; flags select options and the path style.
func FuzzMatchesSDK(f *testing.F) {
	f.Add("POST", "sts.amazonaws.com", "/", "", "Content-Type:application/x-www-form-urlencoded; charset=utf-8\nUser-Agent:aws-sdk-go-v2", []byte("Action=GetSessionToken&Version=2011-06-15"), "", uint8(0), int64(1440938160))
	f.Add("GET", "example.amazonaws.com", "/example space/ሴ", "Param2=value2&Param1=value1&Param1=value0", "My-Header1:  a   b  \nMy-Header1:c", []byte(nil), "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", uint8(1), int64(0))
	f.Add("PUT", "bucket.s3.amazonaws.com:443", "/key/with+plus/%2F", "x-id=PutObject&%E1%88%B4=%20", "X-Amz-Meta-Foo:bar\nX-Amz-Expected-Bucket-Owner:123\nX-Amz-Target:t", []byte("data"), "token/with+slash=", uint8(0b10110), int64(4102444799))
	f.Add("GET", "127.0.0.1:5000", "//a/./b/../", "a;b=c", "Bad Name:x", []byte(nil), "", uint8(0b11111), int64(-5))
	f.Fuzz(func(t *testing.T, method, host, path, rawQuery, headerBlob string, body []byte, token string, flags uint8, unix int64) {
		if unix < 0 {
			unix = -unix
		}
		c := &genCase{
			method:   method,
			scheme:   []string{"https", "http"}[flags&1],
			host:     host,
			path:     path,
			opaque:   flags&2 != 0 && strings.HasPrefix(path, "/"),
			rawQuery: rawQuery,
			body:     body,
			secret:   "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			creds:    Credentials{AccessKeyID: "AKIDEXAMPLE", SessionToken: token},
			service:  genServices[int(flags>>5)%len(genServices)],
			region:   genRegions[int(flags>>3)%len(genRegions)],
			t:        time.Unix(unix%4102444800, 0),
			expires:  time.Duration(1+unix%604800) * time.Second,
			opts: Options{
				DisableURIPathEscaping: flags&4 != 0,
				DisableHeaderHoisting:  flags&8 != 0,
				UnsignedSessionToken:   flags&16 != 0,
				AddContentSHA256Header: flags&32 != 0,
				CacheSigningKey:        flags&64 != 0,
			},
		}
		if c.method == "" {
			c.method = "GET" // net/http's meaning of ""; the SDK would sign ""
		}
		if headerBlob != "" {
			for _, l := range strings.Split(headerBlob, "\n") {
				name, value, _ := strings.Cut(l, ":")
				c.headers = append(c.headers, [2]string{name, value})
			}
		}
		sum := sha256.Sum256(body)
		c.payloadHash = hex.EncodeToString(sum[:])
		if flags&128 != 0 {
			c.payloadHash = UnsignedPayload
			if unix%2 == 1 {
				c.payloadHash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
			}
		}
		c.opts.DisableSessionToken = unix%3 == 1
		if c.opaque && strings.ContainsAny(path, "?#") {
			// A literal path ends at "?" or "#"; leave such paths to net/url.
			c.opaque = false
		}
		checkAgainstSDK(t, c)
	})
}

// TestSDKComparableRefusals pins the refusals that sdkComparable expects, so that the
// property test cannot pass by refusing everything.
func TestSDKComparableRefusals(t *testing.T) {
	base := func() *genCase {
		return &genCase{method: "GET", scheme: "https", host: "example.com", path: "/", payloadHash: EmptyPayloadHash,
			secret: "s", creds: Credentials{AccessKeyID: "AKID"}, service: "sts", region: "us-east-1", t: time.Unix(1, 0), expires: time.Hour}
	}
	tests := []struct {
		name   string
		mutate func(*genCase)
	}{
		{"bad query", func(c *genCase) { c.rawQuery = "a=%zz" }},
		{"semicolon in query", func(c *genCase) { c.rawQuery = "a;b" }},
		{"bad header name", func(c *genCase) { c.headers = [][2]string{{"Bad Name", "x"}} }},
		{"newline in header value", func(c *genCase) { c.headers = [][2]string{{"X", "a\nb"}} }},
		{"no host", func(c *genCase) { c.host = "" }},
		{"space in host", func(c *genCase) { c.host = "a b" }},
		{"bad method", func(c *genCase) { c.method = "GE T" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			if !sdkComparable(c) {
				t.Fatal("base case not comparable")
			}
			tt.mutate(c)
			if sdkComparable(c) {
				t.Fatal("mutated case still comparable")
			}
			r := c.newRequest()
			err := New(SoftwareDeriver(c.secret)).SignHTTP(context.Background(), r, c.payloadHash, c.creds, c.service, c.region, c.t)
			if err == nil || !strings.HasPrefix(err.Error(), "sigv4: ") {
				t.Fatalf("SignHTTP error = %v, want a sigv4 refusal", err)
			}
			if r.Header.Get(headerAuthorization) != "" || r.Header.Get(headerDate) != "" {
				t.Error("request changed although signing failed")
			}
		})
	}
}
