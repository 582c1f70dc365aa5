package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/awskeep/awskeep/core/sigv4"
)

// TestCurlUsageErrors: a bad command line exits 2 with one line, before any key is
// opened (no plugin is installed here) and without echoing what might be a secret.
func TestCurlUsageErrors(t *testing.T) {
	key := []string{"--key", "pkcs11:token=aws;object=prod", "--access-key-id", "AKIAIOSFODNN7EXAMPLE"}
	local := "http://127.0.0.1:9/"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", key, "no URL"},
		{"two URLs", append(key, local, "s3cr3tValue"), "one URL only"},
		{"header without a colon", append(key, "--service", "sts", "-H", "X-Token s3cr3tValue", local), "-H #1: want 'Name: value'"},
		{"header name with a space", append(key, "--service", "sts", "-H", "X Token: s3cr3tValue", local), "-H #1"},
		{"header value with a newline", append(key, "--service", "sts", "-H", "X-Token: s3cr3t\nValue", local), "-H X-Token: the value has control characters"},
		{"Authorization header", append(key, "--service", "sts", "-H", "authorization: s3cr3tValue", local), "-H Authorization: not allowed"},
		{"Content-Length header", append(key, "--service", "sts", "-H", "Content-Length: 3", local), "-H Content-Length: not allowed"},
		{"X-Amz-Date header", append(key, "--service", "sts", "-H", "X-Amz-Date: 20260101T000000Z", local), "awskeep sets it"},
		{"no key, no profile", []string{"--service", "sts", local}, "--profile NAME"},
		{"host awskeep cannot place", append(key, local), "--service"},
		{"ftp URL", append(key, "--service", "s3", "ftp://example.com/x"), "https:// or http://"},
		{"URL without a host", append(key, "--service", "s3", "https:///x"), "no host"},
		{"URL with a password", append(key, "--service", "s3", "https://u:s3cr3tValue@example.com/x"), "user name or password"},
		{"bad method", append(key, "--service", "sts", "-X", "GE T", local), "-X: not an HTTP method"},
		{"file and data", append(key, "--service", "sts", "-d", "@body", "-d", "x", local), "-d @FILE or @-"},
		{"empty file name", append(key, "--service", "sts", "-d", "@", local), "-d @: no file name"},
		{"timeout zero", append(key, "--service", "sts", "--timeout", "0", local), "--timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runAwskeep(t, "", nil, append([]string{"curl"}, tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "awskeep: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, one line", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "s3cr3t") {
				t.Errorf("stderr echoes a value: %q", r.stderr)
			}
		})
	}
}

// TestCurlHostHeaderNamesTheScope: with -H Host the scope comes from that host, so a
// request to an address needs no --service; it gets as far as opening the key.
func TestCurlHostHeaderNamesTheScope(t *testing.T) {
	r := runAwskeep(t, "", map[string]string{"AWSKEEP_PLUGIN_DIR": t.TempDir()}, "curl", "--key", "pkcs11:token=aws;object=prod",
		"--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--plugin-dir", t.TempDir(), "-H", "Host: sts.eu-west-1.amazonaws.com", "http://127.0.0.1:9/")
	if r.code != exitFailure || strings.Contains(r.stderr, "--service") || !strings.Contains(r.stderr, "plugin") {
		t.Errorf("exit %d, stderr %q; want a failure to find the plugin", r.code, r.stderr)
	}
}

func TestCurlRequest(t *testing.T) {
	for _, tt := range []struct {
		name        string
		in          curlInput
		method      string
		contentType string
		host        string
	}{
		{name: "plain GET", method: "GET"},
		{name: "data makes a form POST", in: curlInput{data: []string{"Action=GetCallerIdentity"}}, method: "POST",
			contentType: "application/x-www-form-urlencoded"},
		{name: "-X wins over -d", in: curlInput{method: "PUT", data: []string{"x"}}, method: "PUT",
			contentType: "application/x-www-form-urlencoded"},
		{name: "-H Content-Type wins", in: curlInput{data: []string{"{}"}, headers: []string{"content-type: application/x-amz-json-1.0"}},
			method: "POST", contentType: "application/x-amz-json-1.0"},
		{name: "no body, no Content-Type", in: curlInput{method: "DELETE"}, method: "DELETE"},
		{name: "Host header overrides the host", in: curlInput{headers: []string{"Host: sts.amazonaws.com"}}, method: "GET",
			host: "sts.amazonaws.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := curlRequest(context.Background(), &tt.in, "https://127.0.0.1:8443/a%2Fb/c?x=1#frag")
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.method || r.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("method %s, Content-Type %q; want %s, %q", r.Method, r.Header.Get("Content-Type"), tt.method, tt.contentType)
			}
			host := tt.host
			if host == "" {
				host = "127.0.0.1:8443"
			}
			if r.Host != host || r.Header.Get("Host") != "" {
				t.Errorf("host %q (header %q), want %q", r.Host, r.Header.Get("Host"), host)
			}
			if got := r.URL.RequestURI(); got != "/a%2Fb/c?x=1" || r.URL.Fragment != "" {
				t.Errorf("request URI %q, fragment %q", got, r.URL.Fragment)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	h, host, err := parseHeaders([]string{"X-Amz-Meta-A: 1", "x-amz-meta-a:2", "Range:  bytes=0-9 ", "X-Empty:", "Host: example.com:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Values("X-Amz-Meta-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("X-Amz-Meta-A = %q", got)
	}
	if h.Get("Range") != "bytes=0-9" || len(h.Values("X-Empty")) != 1 || h.Get("X-Empty") != "" {
		t.Errorf("headers %v", h)
	}
	if host != "example.com:8080" {
		t.Errorf("host %q", host)
	}
}

func TestReadBody(t *testing.T) {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	dir := t.TempDir()
	file := filepath.Join(dir, "body")
	content := strings.Repeat("line\n", 10000) // newlines kept, as curl --data-binary
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()

	for _, tt := range []struct {
		name string
		data []string
		want string
	}{
		{"literal", []string{"a=1"}, "a=1"},
		{"empty", []string{""}, ""},
		{"joined", []string{"Action=GetCallerIdentity", "Version=2011-06-15"}, "Action=GetCallerIdentity&Version=2011-06-15"},
		{"file", []string{"@" + file}, content},
		{"stdin", []string{"@-"}, content},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := readBody(stdin, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.size != int64(len(tt.want)) || b.hash != sum(tt.want) {
				t.Errorf("size %d hash %s; want %d %s", b.size, b.hash, len(tt.want), sum(tt.want))
			}
			for range 2 { // readable again from the start
				rc, err := b.reader()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				if err != nil || string(got) != tt.want {
					t.Fatalf("body read back: %d bytes, %v", len(got), err)
				}
			}
			if tt.want == "" && b.hash != sigv4.EmptyPayloadHash {
				t.Errorf("empty body hash %s", b.hash)
			}
		})
	}
	if b, err := readBody(nil, nil); b != nil || err != nil {
		t.Errorf("no -d: %v, %v", b, err)
	}
	if _, err := readBody(nil, []string{"@" + filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := readBody(nil, []string{"@" + dir}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestPrintRequest(t *testing.T) {
	r, err := curlRequest(context.Background(), &curlInput{data: []string{"Action=GetCallerIdentity"}, headers: []string{"X-Extra: 1"}}, "https://sts.amazonaws.com/?b=2&a=1")
	if err != nil {
		t.Fatal(err)
	}
	body := memoryBody([]byte("Action=GetCallerIdentity"))
	r.ContentLength = body.size
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=abc")
	var out strings.Builder
	if err := printRequest(&out, r, body); err != nil {
		t.Fatal(err)
	}
	want := `POST /?b=2&a=1 HTTP/1.1
Host: sts.amazonaws.com
Content-Length: 24
Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=abc
Content-Type: application/x-www-form-urlencoded
X-Extra: 1

Action=GetCallerIdentity
`
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, tt := range []struct {
		body []byte
		want string
	}{
		{[]byte("\x1b[31mred"), "<8 bytes>"},
		{[]byte{0xff, 0xfe}, "<2 bytes>"},
		{[]byte(strings.Repeat("a", maxShownBody+1)), "<4097 bytes>"},
		{[]byte("tab\tand\nnewline"), "tab\tand\nnewline"},
	} {
		if got := memoryBody(tt.body).shown(); got != tt.want {
			t.Errorf("shown(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// awsErrorBodies are error answers as AWS services send them (from the AWS documentation
// and the SDKs' protocol tests), with the code and message the error line must show.
var awsErrorBodies = []struct {
	name          string
	header        http.Header
	body          string
	code, message string
}{
	{name: "S3 REST-XML",
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>hello.txt</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>`,
		code: "NoSuchKey", message: "The specified key does not exist."},
	{name: "S3 SignatureDoesNotMatch with the string to sign",
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256
20260101T000000Z
20260101/us-east-1/s3/aws4_request
abc</StringToSign><SignatureProvided>def</SignatureProvided><CanonicalRequest>GET
/x

host:b.s3.amazonaws.com
</CanonicalRequest></Error>`,
		code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	{name: "S3 PermanentRedirect",
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>b</Bucket></Error>`,
		code: "PermanentRedirect", message: "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."},
	{name: "STS query XML",
		body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>SignatureDoesNotMatch</Code>
    <Message>The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>`,
		code:    "SignatureDoesNotMatch",
		message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	{name: "moto query XML with Errors",
		body: `<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/mallory is not authorized to perform: sts:AssumeRole</Message><Type>Sender</Type></Error></Errors></ErrorResponse>`,
		code: "AccessDenied", message: "User: arn:aws:iam::123456789012:user/mallory is not authorized to perform: sts:AssumeRole"},
	{name: "EC2",
		body: `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1a2b3c4d' does not exist</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`,
		code: "InvalidInstanceID.NotFound", message: "The instance ID 'i-1a2b3c4d' does not exist"},
	{name: "IAM with entities",
		body: `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &quot;bob&quot; cannot be found.</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
		code: "NoSuchEntity", message: `The user with name "bob" cannot be found.`},
	{name: "DynamoDB JSON 1.0",
		body: `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: x not found"}`,
		code: "ResourceNotFoundException", message: "Requested resource not found: Table: x not found"},
	{name: "KMS JSON 1.1 with Message",
		body: `{"__type":"NotFoundException","Message":"Key 'arn:aws:kms:us-east-1:123456789012:key/x' does not exist"}`,
		code: "NotFoundException", message: "Key 'arn:aws:kms:us-east-1:123456789012:key/x' does not exist"},
	{name: "REST-JSON header wins",
		header: http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.service/"}},
		body:   `{"message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:f","Type":"User"}`,
		code:   "ResourceNotFoundException", message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f"},
	{name: "REST-JSON code field",
		body: `{"code":"BadRequestException","message":"Invalid request"}`,
		code: "BadRequestException", message: "Invalid request"},
	{name: "API Gateway JSON SigV4 refusal",
		header: http.Header{"X-Amzn-Errortype": {"InvalidSignatureException"}},
		body:   `{"message":"The request signature we calculated does not match the signature you provided."}`,
		code:   "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided."},
	{name: "HEAD: no body", header: http.Header{}, body: ""},
	{name: "HTML", body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
	{name: "not JSON after all", body: "{oops"},
	{name: "JSON message not a string", body: `{"__type":"X","message":42}`, code: "X"},
	{name: "control characters are cleaned",
		body: `{"__type":"Bad\u001b[31mCode","message":"line one\n  line\ttwo\u202e"}`,
		code: "Bad[31mCode", message: "line one line two"},
}

func TestParseAWSError(t *testing.T) {
	for _, tt := range awsErrorBodies {
		t.Run(tt.name, func(t *testing.T) {
			code, message := parseAWSError(tt.header, []byte(tt.body))
			if code != tt.code || message != tt.message {
				t.Errorf("got %q, %q\nwant %q, %q", code, message, tt.code, tt.message)
			}
		})
	}
}

// FuzzParseAWSError: whatever a server answers, parseAWSError does not panic and returns
// one bounded line of printable UTF-8 for each of code and message.
func FuzzParseAWSError(f *testing.F) {
	for _, tt := range awsErrorBodies {
		f.Add(tt.header.Get("X-Amzn-Errortype"), []byte(tt.body))
	}
	f.Add("", []byte(`<Error><Error><Code>a</Code></Error></Error>`))
	f.Add("a#b:c", []byte(`{"__type":"x#","message":"`+strings.Repeat("m", 3000)+`"}`))
	f.Fuzz(func(t *testing.T, errorType string, body []byte) {
		h := http.Header{}
		if errorType != "" {
			h.Set("X-Amzn-Errortype", errorType)
		}
		code, message := parseAWSError(h, body)
		for _, s := range []struct {
			what  string
			value string
			max   int
		}{{"code", code, maxErrorCode}, {"message", message, maxErrorMessage}} {
			if len(s.value) > s.max+len("…") {
				t.Fatalf("%s is %d bytes", s.what, len(s.value))
			}
			if !utf8.ValidString(s.value) || s.value != strings.TrimSpace(s.value) || strings.Contains(s.value, "  ") {
				t.Fatalf("%s %q is not one clean line", s.what, s.value)
			}
			for _, r := range s.value {
				if r != ' ' && (!unicode.IsPrint(r) || unicode.IsSpace(r)) {
					t.Fatalf("%s %q holds %U", s.what, s.value, r)
				}
			}
		}
	})
}

// TestDeliver sends to a local server: bodies to stdout on success, one error line
// naming the AWS error on failure (the body on stdout only with -i), redirects not
// followed.
func TestDeliver(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Request-Id", "r1")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/denied", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, awsErrorBodies[0].body)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/x", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "moto says no", http.StatusInternalServerError)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client, err := curlClient("")
	if err != nil {
		t.Fatal(err)
	}
	send := func(path string, include bool, timeout time.Duration) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Signature=secretsig")
		var out strings.Builder
		err = deliver(&out, client, r, include, "curl GET "+srv.URL+path, timeout)
		if err != nil && strings.Contains(err.Error(), "secretsig") {
			t.Errorf("error shows the Authorization header: %v", err)
		}
		return out.String(), err
	}

	if out, err := send("/ok", false, time.Minute); err != nil || out != "hello" {
		t.Errorf("/ok: %q, %v", out, err)
	}
	if out, err := send("/ok", true, time.Minute); err != nil || !strings.HasPrefix(out, "HTTP/1.1 200 OK\n") || !strings.Contains(out, "\nX-Amz-Request-Id: r1\n") || !strings.HasSuffix(out, "\n\nhello") {
		t.Errorf("/ok -i: %q, %v", out, err)
	}
	out, err := send("/denied", false, time.Minute)
	if want := "curl GET " + srv.URL + "/denied: HTTP 403 NoSuchKey: The specified key does not exist."; err == nil || err.Error() != want || out != "" {
		t.Errorf("/denied: stdout %q, error %v; want %s", out, err, want)
	}
	if out, err = send("/denied", true, time.Minute); err == nil || !strings.HasPrefix(out, "HTTP/1.1 403 Forbidden\n") || !strings.HasSuffix(out, "</Error>") {
		t.Errorf("/denied -i: stdout %q, error %v", out, err)
	}
	if out, err = send("/moved", false, time.Minute); err == nil || out != "" || !strings.Contains(err.Error(), "HTTP 307 Temporary Redirect (redirect to https://elsewhere.example/x, not followed)") {
		t.Errorf("/moved: stdout %q, error %v", out, err)
	}
	if _, err = send("/plain", false, time.Minute); err == nil || !strings.HasSuffix(err.Error(), "HTTP 500 Internal Server Error: moto says no") {
		t.Errorf("/plain: %v", err)
	}
	if _, err = send("/slow", false, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no answer within 100ms (--timeout)") {
		t.Errorf("/slow: %v", err)
	}
}

func TestScopeFor(t *testing.T) {
	for _, tt := range []struct {
		url, service, region string
		want                 string // service/region
	}{
		{"https://sts.eu-west-1.amazonaws.com/", "", "", "sts/eu-west-1"},
		{"https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf", "", "", "s3/eu-west-1"},
		{"https://iam.amazonaws.com/", "", "", "iam/us-east-1"},
		// A host that names a region wins over nothing but --region.
		{"https://sts.eu-west-1.amazonaws.com/", "", "eu-central-1", "sts/eu-central-1"},
		{"https://abc.execute-api.eu-west-1.amazonaws.com/prod/", "execute-api", "", "execute-api/eu-west-1"},
		// Hosts that say no region (or are not AWS's): the profile's, filled in later.
		{"https://abc.execute-api.amazonaws.com/", "execute-api", "", "execute-api/"},
		{"http://localhost:4566/", "sqs", "", "sqs/"},
	} {
		u, err := parseEndpointURL("curl", tt.url)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scopeFor("curl", u.Host, tt.service, tt.region)
		if got := sc.Service + "/" + sc.Region; err != nil || got != tt.want {
			t.Errorf("scopeFor(%s, --service %q, --region %q) = %s, %v; want %s", tt.url, tt.service, tt.region, got, err, tt.want)
		}
	}
	u, err := parseEndpointURL("curl", "http://127.0.0.1:5000/")
	if err != nil {
		t.Fatal(err)
	}
	// A host that is not AWS's: the flags, with the region left to the profile.
	if sc, err := scopeFor("curl", u.Host, "sts", ""); err != nil || sc.Service != "sts" || sc.Region != "" {
		t.Errorf("scopeFor(--service sts) = %+v, %v", sc, err)
	}
	if sc, err := scopeFor("curl", u.Host, "sts", "eu-west-1"); err != nil || sc.Service != "sts" || sc.Region != "eu-west-1" {
		t.Errorf("scopeFor(--service sts --region eu-west-1) = %+v, %v", sc, err)
	}
	if _, err := scopeFor("curl", u.Host, "", "eu-west-1"); err == nil || !strings.Contains(err.Error(), "--service") {
		t.Errorf("no service for 127.0.0.1: %v", err)
	}
}
