package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awskeep/awskeep/core/awsendpoint"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/core/sts"
)

// curlInput is the command line of awskeep curl.
type curlInput struct {
	sign    signFlags
	scope   scopeFlags
	method  string
	headers []string
	data    []string
	include bool
	dryRun  bool
}

func newCurlCommand(e *env) *cobra.Command {
	var in curlInput
	cmd := &cobra.Command{
		Use:   "curl (--profile NAME | --key URI --access-key-id AKID) [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE|@-] [--service S] [--region R] [-i] [--dry-run] URL",
		Short: "Send one HTTP request signed with the device key (SigV4), like curl",
		Long: `Send one request to an AWS endpoint, signed with Signature Version 4 by the device key
itself: no STS call, no temporary credentials. The response body goes to stdout.

  awskeep curl --profile prod-hsm https://sts.amazonaws.com/ \
      -d Action=GetCallerIdentity -d Version=2011-06-15
  awskeep curl --profile prod-hsm https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf > report.pdf
  awskeep curl --profile prod-hsm -X PUT -d @report.pdf https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf

Service and region: --service and --region when given; otherwise the signing name and
region the URL's host (or -H 'Host: ...') stands for, as the AWS SDKs' endpoint rules
name them (s3, sts, execute-api...). The profile's region (region, $AWS_REGION,
$AWS_DEFAULT_REGION, us-east-1) is used only when the host names no region and --region
is not given: without --region, a host that names a region is signed for that region,
whatever the profile says. A host that is not AWS's (a local endpoint, a proxy) needs
--service.

Body: -d DATA sends DATA, -d @FILE the file (streamed: hashed first, then sent from the
file), -d @- stdin. Bytes are sent as they are (like curl --data-binary). Several -d
DATA are joined with '&'. With -d and no -X the method is POST and, as with curl,
Content-Type defaults to application/x-www-form-urlencoded. The payload is signed with
its SHA-256; for s3 also in X-Amz-Content-Sha256, and the path is signed as sent.
Headers given with -H are signed, except those SigV4 never signs (User-Agent, Expect).

An answer of HTTP 300 or more is a failure (exit 1): one line on stderr with the AWS
error code and message, nothing on stdout (with -i: the status, headers and body).
Redirects are not followed. --timeout bounds the whole command, the transfer included.
--dry-run prints the signed request instead of sending it: AWS accepts its Authorization
header for about 15 minutes, so treat the output like the request itself.`,
		Args: urlArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCurl(cmd.Context(), e, &in, args[0])
		},
	}
	fs := cmd.Flags()
	in.sign.bind(fs)
	in.scope.bind(fs)
	fs.StringVarP(&in.method, "request", "X", "", "HTTP method (default GET, or POST with -d)")
	fs.StringArrayVarP(&in.headers, "header", "H", nil, "extra header 'Name: value', signed; repeatable")
	fs.StringArrayVarP(&in.data, "data", "d", nil, "request body: DATA, @FILE or @- (stdin); repeatable for DATA (joined with '&')")
	fs.BoolVarP(&in.include, "include", "i", false, "print the status line and response headers before the body")
	fs.BoolVar(&in.dryRun, "dry-run", false, "print the signed request instead of sending it")
	fs.StringVar(&in.sign.settings.CABundle, "ca-bundle", "", "PEM file of extra CAs trusted for the endpoint (ca_bundle; default $AWS_CA_BUNDLE)")
	return cmd
}

// scopeFlags name the credential scope a request is signed for. --region is bound by
// signFlags (it also overrides the profile's region); --service lives here.
type scopeFlags struct {
	service string
}

func (s *scopeFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&s.service, "service", "", "signing name of the service: s3, sts, execute-api... (default: named by the URL's host)")
	// signFlags words --region for the profile; here it is the signing region.
	if r := fs.Lookup("region"); r != nil {
		r.Usage = "signing region (default: named by the URL's host, else the profile's region, $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)"
	}
}

// scopeFor returns the service and region to sign a request to host for: --service and
// --region when given, else what the host names (awsendpoint.Infer). The Region is ""
// when neither names one: the caller then signs for the profile's region. It needs no
// device, so a URL awskeep cannot place costs no PIN.
func scopeFor(cmdName, host, service, region string) (awsendpoint.Scope, error) {
	sc := awsendpoint.Scope{Service: service, Region: region}
	if sc.Service != "" && sc.Region != "" {
		return sc, nil
	}
	inferred, err := awsendpoint.Infer(host)
	if err != nil {
		if sc.Service == "" {
			return sc, usagef("%s: %v", cmdName, err)
		}
		// A host of another kind (moto, MinIO, a proxy): the profile's region.
		return sc, nil
	}
	if sc.Service == "" {
		sc.Service = inferred.Service
	}
	if sc.Region == "" {
		sc.Region = inferred.Region
	}
	return sc, nil
}

// s3Options are how S3 wants requests signed: the path as sent (S3 does not decode it a
// second time) and, for header signing, the payload hash in X-Amz-Content-Sha256.
func s3Options(o *sigv4.Options) {
	o.DisableURIPathEscaping = true
	o.AddContentSHA256Header = true
}

// urlArg takes exactly one URL. Extra words are not echoed: one may be a secret typed in
// the wrong place.
func urlArg(cmd *cobra.Command, args []string) error {
	switch len(args) {
	case 1:
		return nil
	case 0:
		return usagef("%s: no URL: %s [flags] URL", cmd.CommandPath(), cmd.CommandPath())
	default:
		return usagef("%s: one URL only (%d arguments given)", cmd.CommandPath(), len(args))
	}
}

// parseEndpointURL checks the URL of a request to sign: absolute http or https with a
// host, and no user:password (the device key signs; a password in a URL would end up in
// logs and shell history).
func parseEndpointURL(cmdName, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, usagef("%s: the URL does not parse: %v", cmdName, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, usagef("%s: the URL must start with https:// or http://", cmdName)
	case u.Host == "" || u.Hostname() == "":
		return nil, usagef("%s: the URL has no host", cmdName)
	case u.User != nil:
		return nil, usagef("%s: the URL holds a user name or password: leave it out, the request is signed with the device key", cmdName)
	}
	u.Fragment, u.RawFragment = "", "" // never sent
	return u, nil
}

// validMethod reports whether m is an RFC 9110 method token.
func validMethod(m string) bool { return m != "" && validHeaderToken(m) }

// validHeaderToken reports whether s is an RFC 9110 token (a method or a header name).
func validHeaderToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// refusedHeaders are headers -H may not set, and why.
var refusedHeaders = map[string]string{
	"Authorization":     "awskeep signs the request and sets it",
	"X-Amz-Date":        "awskeep sets it to the signing time",
	"Content-Length":    "it is the length of the -d body",
	"Transfer-Encoding": "the body is sent with a Content-Length",
}

// parseHeaders turns -H 'Name: value' arguments into headers and the Host override, if
// any. Values are never echoed in errors: they may be tokens.
func parseHeaders(args []string) (http.Header, string, error) {
	h := http.Header{}
	host := ""
	for i, a := range args {
		name, value, ok := strings.Cut(a, ":")
		value = strings.TrimSpace(value)
		switch {
		case !ok || !validHeaderToken(name):
			return nil, "", usagef("-H #%d: want 'Name: value' with a header name of letters, digits and -", i+1)
		case !validHeaderValue(value):
			return nil, "", usagef("-H %s: the value has control characters", name)
		}
		canonical := http.CanonicalHeaderKey(name)
		if why, refused := refusedHeaders[canonical]; refused {
			return nil, "", usagef("-H %s: not allowed: %s", canonical, why)
		}
		if canonical == "Host" {
			if value == "" {
				return nil, "", usagef("-H Host: empty host")
			}
			host = value
			continue
		}
		h.Add(canonical, value)
	}
	return h, host, nil
}

// validHeaderValue reports whether v has no control characters but tab (what net/http
// sends).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// requestBody is the body of the request: in memory (-d DATA) or in a file (-d @FILE, or
// stdin spooled to an unlinked temporary file), with its SHA-256.
type requestBody struct {
	data []byte
	file *os.File
	size int64
	hash string // hex SHA-256
}

func (b *requestBody) Close() {
	if b != nil && b.file != nil {
		_ = b.file.Close()
	}
}

// reader returns the body for sending, from its start.
func (b *requestBody) reader() (io.ReadCloser, error) {
	if b.size == 0 {
		return http.NoBody, nil
	}
	if b.file == nil {
		return io.NopCloser(bytes.NewReader(b.data)), nil
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.NopCloser(io.LimitReader(b.file, b.size)), nil
}

// maxShownBody is the longest body --dry-run prints; longer ones print as "<N bytes>".
const maxShownBody = 4096

// shown is the body as --dry-run prints it: the text when short and printable.
func (b *requestBody) shown() string {
	if b.size > maxShownBody {
		return fmt.Sprintf("<%d bytes>", b.size)
	}
	data := b.data
	if b.file != nil {
		data = make([]byte, b.size)
		if n, err := b.file.ReadAt(data, 0); int64(n) != b.size {
			return fmt.Sprintf("<%d bytes: %v>", b.size, err)
		}
	}
	if !printableText(data) {
		return fmt.Sprintf("<%d bytes>", b.size)
	}
	return string(data)
}

// printableText reports whether data is UTF-8 text without control characters other than
// tab, CR and LF (nothing that could drive a terminal).
func printableText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// readBody reads the -d arguments. nil means no body.
func readBody(stdin *os.File, data []string) (*requestBody, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if len(data) > 1 {
		if slices.ContainsFunc(data, func(d string) bool { return strings.HasPrefix(d, "@") }) {
			return nil, usagef("-d @FILE or @- is the whole body: give it once, without other -d")
		}
		joined := []byte(strings.Join(data, "&"))
		return memoryBody(joined), nil
	}
	d := data[0]
	switch {
	case d == "@-":
		if stdin == nil {
			return nil, errors.New("-d @-: no stdin")
		}
		return spoolBody(stdin, "-d @- (stdin)")
	case strings.HasPrefix(d, "@"):
		return fileBody(d[1:])
	default:
		return memoryBody([]byte(d)), nil
	}
}

func memoryBody(data []byte) *requestBody {
	sum := sha256.Sum256(data)
	return &requestBody{data: data, size: int64(len(data)), hash: hex.EncodeToString(sum[:])}
}

// fileBody hashes a regular file and keeps it open to send it: nothing of it is held in
// memory. Anything else (a pipe, a device) is spooled first.
func fileBody(path string) (*requestBody, error) {
	what := "-d @" + path
	if path == "" {
		return nil, usagef("-d @: no file name (use @- for stdin)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, unwrapPath(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", what)
	}
	if !fi.Mode().IsRegular() {
		defer f.Close()
		return spoolBody(f, what)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", what, unwrapPath(err))
	}
	return &requestBody{file: f, size: n, hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// spoolBody copies r into an unlinked temporary file, hashing it on the way: the hash is
// needed before the body is sent, and stdin can be read only once.
func spoolBody(r io.Reader, what string) (*requestBody, error) {
	f, err := os.CreateTemp("", "awskeep-curl-")
	if err != nil {
		return nil, fmt.Errorf("%s: spool: %w", what, err)
	}
	// Unlinked at once: nothing stays behind, however the command ends.
	_ = os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", what, unwrapPath(err))
	}
	return &requestBody{file: f, size: n, hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// unwrapPath drops the *PathError's operation and path, which the caller names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// curlRequest builds the unsigned request from the command line; usage errors come
// before any file is read.
func curlRequest(ctx context.Context, in *curlInput, raw string) (*http.Request, error) {
	u, err := parseEndpointURL("curl", raw)
	if err != nil {
		return nil, err
	}
	method := in.method
	switch {
	case method == "" && len(in.data) > 0:
		method = http.MethodPost
	case method == "":
		method = http.MethodGet
	case !validMethod(method):
		return nil, usagef("-X: not an HTTP method (letters, e.g. GET, PUT, POST, DELETE)")
	}
	h, host, err := parseHeaders(in.headers)
	if err != nil {
		return nil, err
	}
	if len(in.data) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d does
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, usagef("curl: %v", err)
	}
	r.URL = u // as parsed and checked, not parsed again
	r.Header = h
	if host != "" {
		r.Host = host
	}
	return r, nil
}

// displayURL names a request in messages: scheme, host and path. The query is left out;
// it may carry a presigned signature or a token.
func displayURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// runCurl signs and sends one request (or prints it with --dry-run).
func runCurl(ctx context.Context, e *env, in *curlInput, raw string) error {
	r, err := curlRequest(ctx, in, raw)
	if err != nil {
		return err
	}
	// The host signed: the URL's, or the one -H Host names.
	sc, err := scopeFor("curl", r.Host, in.scope.service, in.sign.settings.Region)
	if err != nil {
		return err
	}
	what := "curl " + r.Method + " " + displayURL(r.URL)

	body, err := readBody(e.stdin, in.data)
	if err != nil {
		return err
	}
	defer body.Close()
	payloadHash := sigv4.EmptyPayloadHash
	if body != nil {
		payloadHash = body.hash
		if r.Body, err = body.reader(); err != nil {
			return fmt.Errorf("%s: body: %w", what, err)
		}
		r.ContentLength = body.size
	}

	// The client first: a bad CA bundle is reported before the device asks for a PIN.
	var client *http.Client
	if !in.dryRun {
		s, err := in.sign.resolve(e) // --ca-bundle, ca_bundle, $AWS_CA_BUNDLE
		if err != nil {
			return err
		}
		if client, err = curlClient(s.CABundle); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}

	timeout := timeDuration(in.sign.host.timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r = r.WithContext(ctx)
	key, err := in.sign.open(ctx, e)
	if err != nil {
		return err
	}
	defer key.Close()
	if sc.Region == "" {
		sc.Region = key.Region()
	}
	var opts []func(*sigv4.Options)
	if sc.Service == "s3" {
		opts = append(opts, s3Options)
	}
	if err := key.SignHTTP(ctx, r, payloadHash, sc.Service, sc.Region, e.now(), opts...); err != nil {
		return fmt.Errorf("%s: sign: %w", what, err)
	}
	if in.dryRun {
		return printRequest(e.stdout, r, body)
	}

	return deliver(e.stdout, client, r, in.include, what, timeout)
}

// curlClient is the HTTP client of awskeep curl: the system's CAs plus caBundle, the
// proxy from the environment ($HTTPS_PROXY, $NO_PROXY), and no redirects followed (a
// redirect would carry the request to a host it was not signed for: the answer is
// reported instead).
func curlClient(caBundle string) (*http.Client, error) {
	client, err := sts.HTTPClient(caBundle)
	if err != nil {
		return nil, err
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return client, nil
}

// deliver sends the signed request r and copies the answer's body to stdout (with -i
// the status line and headers first). An answer of 300 or more is an error naming the
// AWS error code and message; its body reaches stdout only with -i.
func deliver(stdout io.Writer, client *http.Client, r *http.Request, include bool, what string, timeout time.Duration) error {
	resp, err := client.Do(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, transportError(err, timeout))
	}
	defer resp.Body.Close()
	if include {
		if err := printResponseHead(stdout, resp); err != nil {
			return err
		}
	}
	if resp.StatusCode < 300 {
		if _, err := io.Copy(stdout, resp.Body); err != nil {
			return fmt.Errorf("%s: read the answer: %w", what, transportError(err, timeout))
		}
		return nil
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if include {
		if _, err := stdout.Write(data); err != nil {
			return err
		}
		if readErr == nil {
			_, _ = io.Copy(stdout, resp.Body)
		}
	}
	return fmt.Errorf("%s: %s", what, httpError(resp, data))
}

// maxErrorBody bounds what is read of an error answer to find its code and message.
const maxErrorBody = 1 << 20

// transportError drops net/http's repetition of the method and URL, and says which
// setting bounded a request that timed out.
func transportError(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v (--timeout): %w", timeout, err)
	}
	return err
}

// printRequest prints a signed request as --dry-run shows it: the request line, the
// headers (Host and Content-Length as net/http sends them), a blank line and the body.
func printRequest(w io.Writer, r *http.Request, body *requestBody) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\n", r.Method, r.URL.RequestURI())
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	fmt.Fprintf(&b, "Host: %s\n", host)
	if r.ContentLength > 0 {
		fmt.Fprintf(&b, "Content-Length: %d\n", r.ContentLength)
	}
	writeHeader(&b, r.Header)
	b.WriteString("\n")
	if body != nil && body.size > 0 {
		b.WriteString(body.shown())
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printResponseHead prints the status line and headers of an answer (-i).
func printResponseHead(w io.Writer, resp *http.Response) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	writeHeader(&b, resp.Header)
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeader writes h one "Name: value" line per value, names sorted.
func writeHeader(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// httpError describes a failed answer: the status, the AWS error code and message, and
// where a redirect pointed.
func httpError(resp *http.Response, body []byte) string {
	code, message := parseAWSError(resp.Header, body)
	loc := resp.Header.Get("Location")
	if resp.StatusCode >= 400 {
		loc = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", resp.StatusCode)
	switch {
	case code != "" && message != "":
		fmt.Fprintf(&b, " %s: %s", code, message)
	case code != "":
		fmt.Fprintf(&b, " %s", code)
	case message != "":
		fmt.Fprintf(&b, " %s: %s", http.StatusText(resp.StatusCode), message)
	default:
		if t := http.StatusText(resp.StatusCode); t != "" {
			fmt.Fprintf(&b, " %s", t)
		}
		// The start of a body that is no AWS error (a proxy's page, a plain text), but
		// not the page that comes with a redirect.
		if snippet := cleanText(string(body), maxErrorSnippet); loc == "" && snippet != "" && printableText(prefix(body, 4*maxErrorSnippet)) {
			fmt.Fprintf(&b, ": %s", snippet)
		}
	}
	if loc != "" {
		fmt.Fprintf(&b, " (redirect to %s, not followed)", cleanText(loc, maxErrorMessage))
	}
	return b.String()
}

// prefix is at most the first n bytes of data, cut at a character boundary.
func prefix(data []byte, n int) []byte {
	if len(data) <= n {
		return data
	}
	for n > 0 && !utf8.RuneStart(data[n]) {
		n--
	}
	return data[:n]
}

// Bounds on what of an error answer reaches the error line.
const (
	maxErrorCode    = 128
	maxErrorMessage = 512
	maxErrorSnippet = 200
)

// parseAWSError finds the AWS error code and message of a failed answer, in the shapes
// AWS protocols use ("Error responses" of each protocol's specification):
//
//   - REST-XML (S3, CloudFront): <Error><Code>..</Code><Message>..</Message></Error>
//   - query (STS, IAM, SQS): <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>
//   - EC2: <Response><Errors><Error><Code/><Message/></Error></Errors></Response>
//   - JSON 1.0/1.1 and REST-JSON: {"__type": "ns#Code", "message": ".."} ("Message",
//     "code"), and the x-amzn-ErrorType header ("Code:http://..."), which wins.
//
// Both results are one line of printable text, bounded, "" when not found.
func parseAWSError(h http.Header, body []byte) (code, message string) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 {
		switch body[0] {
		case '<':
			code, message = xmlError(body)
		case '{':
			code, message = jsonError(body)
		}
	}
	if t := h.Get("X-Amzn-Errortype"); t != "" {
		code = t
	}
	return cleanText(sanitizeErrorCode(code), maxErrorCode), cleanText(message, maxErrorMessage)
}

// sanitizeErrorCode keeps the name of a JSON error code: "aws.protocoltests#FooError" and
// "FooError:http://internal.amazon.com/..." are both FooError ("Operation error
// serialization", AWS JSON 1.1 protocol).
func sanitizeErrorCode(code string) string {
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}

// xmlError reads the Code and Message children of the first Error element.
func xmlError(body []byte) (code, message string) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	depth, errorDepth := 0, -1
	var field *string
	for {
		tok, err := d.Token()
		if err != nil {
			return code, message
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case errorDepth < 0 && t.Name.Local == "Error":
				errorDepth = depth
			case errorDepth >= 0 && depth == errorDepth+1 && t.Name.Local == "Code" && code == "":
				field = &code
			case errorDepth >= 0 && depth == errorDepth+1 && t.Name.Local == "Message" && message == "":
				field = &message
			}
		case xml.EndElement:
			if depth == errorDepth {
				return code, message
			}
			depth--
			field = nil
		case xml.CharData:
			if field != nil && len(*field) < maxErrorMessage*4 {
				*field += string(t)
			}
		}
	}
}

// jsonError reads the code and message of a JSON error body; keys match without regard
// to case, as the SDKs match them.
func jsonError(body []byte) (code, message string) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "", ""
	}
	get := func(key string) string {
		for k, v := range m {
			if s, ok := v.(string); ok && strings.EqualFold(k, key) && s != "" {
				return s
			}
		}
		return ""
	}
	code = get("code")
	if code == "" {
		code = get("__type")
	}
	message = get("message")
	if message == "" {
		message = get("errorMessage")
	}
	return code, message
}

// cleanText makes s one line of printable text of at most n bytes: a server can put
// anything in an error answer, and the error line goes to a terminal.
func cleanText(s string, n int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if b.Len() >= n+utf8.UTFMax {
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == utf8.RuneError, !unicode.IsPrint(r):
			continue // escape sequences, bidi overrides: nothing a terminal should act on
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}
