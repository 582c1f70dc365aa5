package sigv4

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verification of signed requests, for a local signing proxy: the proxy hands its clients
// (boto3, the AWS CLI) a local key pair, checks each request's Authorization header with
// [Signer.VerifyHTTP] (the Signer's Deriver is SoftwareDeriver(localSecret)), then re-signs
// the request with the device key and forwards it.

// DefaultMaxSkew is the difference between X-Amz-Date and the verifier's clock that AWS
// accepts (15 minutes). [Signer.VerifyHTTP] uses it when its maxSkew is not positive.
const DefaultMaxSkew = 15 * time.Minute

// Errors of verification. VerifyHTTP, VerifyHTTPChunked and ResignChunks return them
// inside a [*VerifyError] that says what was wrong; errors.Is finds them. Each comment
// names the AWS error code a proxy should answer with.
var (
	// ErrMissingAuthentication: the request has no Authorization header (and is not
	// presigned). AWS: MissingAuthenticationToken (403); S3: AccessDenied.
	ErrMissingAuthentication = errors.New("sigv4: request is not signed")

	// ErrIncompleteSignature: the Authorization header is malformed or incomplete, uses
	// another algorithm (SigV2, SigV4A), does not sign host, or X-Amz-Date is missing or
	// malformed; also presigned (query string) requests, which a proxy does not accept.
	// AWS: IncompleteSignature (400); S3: AuthorizationHeaderMalformed.
	ErrIncompleteSignature = errors.New("sigv4: incomplete signature")

	// ErrSignatureDoesNotMatch: the request is not what was signed with the key, or a
	// signed header is missing, or the credential date differs from X-Amz-Date; for
	// aws-chunked bodies, a chunk signature does not match. AWS: SignatureDoesNotMatch
	// (403).
	ErrSignatureDoesNotMatch = errors.New("sigv4: signature does not match")

	// ErrRequestExpired: X-Amz-Date is further from the verifier's clock than the allowed
	// skew. AWS: RequestExpired / SignatureDoesNotMatch "Signature expired" (403); S3:
	// RequestTimeTooSkewed.
	ErrRequestExpired = errors.New("sigv4: request time too skewed")

	// ErrInvalidAccessKeyID: the credential names an access key ID the verifier does not
	// know. VerifyHTTP cannot know which one is valid: its caller compares
	// [Authorization.AccessKeyID] ([Authorization.CheckAccessKeyID]). AWS:
	// InvalidClientTokenId (403); S3: InvalidAccessKeyId.
	ErrInvalidAccessKeyID = errors.New("sigv4: invalid access key ID")

	// ErrMalformedChunk: an aws-chunked body is not well-formed or ends early. S3:
	// IncompleteBody (400) for a short body, InvalidRequest otherwise.
	ErrMalformedChunk = errors.New("sigv4: malformed aws-chunked body")

	// ErrChunkTooLarge: a chunk of an aws-chunked body is larger than [MaxChunkSize].
	// S3: InvalidRequest (400); a proxy may also answer 413.
	ErrChunkTooLarge = errors.New("sigv4: aws-chunked chunk too large")

	// ErrTrailerNotSupported: the body carries trailing headers
	// ([StreamingPayloadTrailer], [StreamingUnsignedPayloadTrailer]), whose checksums and
	// trailer signature a proxy would have to re-sign; it does not. S3 clients can turn
	// trailing checksums off (botocore: request_checksum_calculation = when_required).
	// AWS: NotImplemented (501).
	ErrTrailerNotSupported = errors.New("sigv4: trailing checksums are not re-signed")
)

// VerifyError is a request that failed verification. Err is one of the sentinel errors
// above; Reason says what was wrong without quoting the signature, header values or
// secrets.
type VerifyError struct {
	Err    error
	Reason string

	// StringToSign is, for a signature that does not match, the string to sign computed
	// from the request (algorithm, X-Amz-Date, scope and the hash of the canonical
	// request; nothing secret). A client's debug log (botocore logs "StringToSign")
	// shows where the two sides differ. Error does not print it.
	StringToSign string
}

func (e *VerifyError) Error() string { return e.Err.Error() + ": " + e.Reason }

// Unwrap returns the sentinel error.
func (e *VerifyError) Unwrap() error { return e.Err }

func verifyErr(sentinel error, format string, args ...any) *VerifyError {
	return &VerifyError{Err: sentinel, Reason: fmt.Sprintf(format, args...)}
}

// Authorization is the parsed value of a SigV4 Authorization header ("Add the signature to
// the request" in the AWS General Reference):
//
//	AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
type Authorization struct {
	AccessKeyID string
	Date        string // credential scope date, yyyymmdd
	Region      string
	Service     string

	// SignedHeaders are the lower-case header names, sorted, as listed.
	SignedHeaders []string

	// Signature is the lower-case hex HMAC-SHA256. A captured signature lets its holder
	// replay the request while X-Amz-Date is within the skew: do not log it.
	Signature string
}

// CheckAccessKeyID returns a [*VerifyError] wrapping [ErrInvalidAccessKeyID] unless the
// credential's access key ID is want. The access key ID is not secret, so the comparison
// is plain.
func (a Authorization) CheckAccessKeyID(want string) error {
	if a.AccessKeyID != want {
		return verifyErr(ErrInvalidAccessKeyID, "the access key ID of the credential is not the one this verifier accepts")
	}
	return nil
}

// ParseAuthorization parses a SigV4 Authorization header value. It accepts the spacing
// variants clients send (any run of spaces or tabs after the algorithm and around the
// commas, also none) and nothing else: the three components in the order Credential,
// SignedHeaders, Signature; a credential of exactly access key ID, yyyymmdd date, region,
// service and "aws4_request"; signed header names that are lower-case tokens, sorted and
// unique; a signature of 64 lower-case hex digits.
//
// Errors wrap [ErrIncompleteSignature] and never quote the value, which holds the
// signature.
func ParseAuthorization(v string) (Authorization, error) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header is empty")
	}
	alg, rest, ok := cutOWS(v)
	if alg != algorithm {
		return Authorization{}, unsupportedAlgorithm(alg)
	}
	if !ok {
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header has only the algorithm: want %s Credential=..., SignedHeaders=..., Signature=...", algorithm)
	}

	names := [3]string{"Credential", "SignedHeaders", "Signature"}
	var values [3]string
	parts := strings.Split(rest, ",")
	if len(parts) != len(names) {
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header has %d comma-separated components, want Credential, SignedHeaders and Signature", len(parts))
	}
	for i, p := range parts {
		val, ok := strings.CutPrefix(strings.Trim(p, " \t"), names[i]+"=")
		if !ok {
			return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header component %d is not %s=...", i+1, names[i])
		}
		values[i] = val
	}

	var a Authorization
	cred := strings.Split(values[0], "/")
	if len(cred) != 5 || cred[4] != terminator {
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Credential is not access-key-id/yyyymmdd/region/service/%s", terminator)
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = cred[0], cred[1], cred[2], cred[3]
	switch {
	case !validScopePart(a.AccessKeyID):
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Credential has an invalid access key ID")
	case !validScopeDate(a.Date):
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Credential date is not a yyyymmdd date")
	case !validScopePart(a.Region):
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Credential has an invalid region")
	case !validScopePart(a.Service):
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Credential has an invalid service")
	}

	a.SignedHeaders = strings.Split(values[1], ";")
	for i, n := range a.SignedHeaders {
		if !validHeaderName(n) || strings.ToLower(n) != n {
			return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: SignedHeaders entry %d is not a lower-case header name", i+1)
		}
		if i > 0 && a.SignedHeaders[i-1] >= n {
			return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: SignedHeaders is not sorted or has a name twice")
		}
	}

	a.Signature = values[2]
	if !validHexSignature(a.Signature) {
		return Authorization{}, verifyErr(ErrIncompleteSignature, "Authorization header: Signature is not 64 lower-case hex digits")
	}
	return a, nil
}

// cutOWS splits s at its first run of spaces and tabs.
func cutOWS(s string) (before, after string, found bool) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", false
	}
	return s[:i], strings.TrimLeft(s[i:], " \t"), true
}

// unsupportedAlgorithm names the algorithms clients are known to send; anything else is
// not quoted (without a space the "algorithm" would be the whole value).
func unsupportedAlgorithm(alg string) *VerifyError {
	switch alg {
	case "AWS4-ECDSA-P256-SHA256":
		return verifyErr(ErrIncompleteSignature, "Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported: sign with %s", algorithm)
	case "AWS":
		return verifyErr(ErrIncompleteSignature, "Signature Version 2 is not supported: sign with %s", algorithm)
	}
	return verifyErr(ErrIncompleteSignature, "Authorization header does not start with %s", algorithm)
}

// validScopeDate reports whether d is a yyyymmdd calendar date.
func validScopeDate(d string) bool {
	if len(d) != len(dateFormat) {
		return false
	}
	t, err := time.Parse(dateFormat, d)
	return err == nil && t.Format(dateFormat) == d
}

func validHexSignature(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// VerifyHTTP checks that r, as a Go http.Server hands it to a handler, carries a valid
// SigV4 Authorization header made with the Signer's key, and returns the parsed header.
// The Signer's Deriver supplies kDate for the credential date; for a proxy's local key
// pair that is SoftwareDeriver(localSecret).
//
// It rebuilds the canonical request ("Create a canonical request") from:
//   - the method (empty means GET);
//   - the path as received: the path of r.RequestURI when it is in origin form ("/..."),
//     else r.URL's escaped path (URL.Opaque or EscapedPath, as [Signer.SignHTTP] reads it);
//     encoded once more unless [Options.DisableURIPathEscaping] (S3), after
//     [Options.NormalizeURIPath] when set (botocore normalizes for services other than S3;
//     requests without "." segments or "//" are not affected);
//   - the canonical form of r.URL.RawQuery;
//   - exactly the headers listed in SignedHeaders: host from r.Host (else r.URL.Host),
//     content-length from r.ContentLength, any other from r.Header, whose keys may differ
//     in case; several values of one name are joined with "," in order, each trimmed and
//     with runs of spaces collapsed, as [Signer.SignHTTP] and aws-sdk-go-v2 do;
//   - payloadHash: the client's X-Amz-Content-Sha256 when it sent one (S3:
//     [UnsignedPayload], [StreamingPayload] or a hex SHA-256), else the hex SHA-256 of the
//     body.
//
// and compares the signature with [hmac.Equal]. VerifyHTTP does not read the body: when
// payloadHash is the client's claim, the body still has to be checked against it, by the
// caller or by the service the request is forwarded to (S3 checks X-Amz-Content-Sha256).
//
// X-Amz-Date must be present once, have the date of the credential scope, and be within
// maxSkew of now ([DefaultMaxSkew] when maxSkew <= 0). The Date header is not accepted in
// its place.
//
// Failures are [*VerifyError] values wrapping [ErrMissingAuthentication],
// [ErrIncompleteSignature], [ErrSignatureDoesNotMatch] or [ErrRequestExpired]; once the
// header has been parsed, the returned Authorization is filled in also on failure. Errors
// of the Deriver and of ctx are wrapped as in [Signer.SignHTTP]. VerifyHTTP does not check
// the access key ID: the caller compares [Authorization.AccessKeyID] with its own, best
// before calling VerifyHTTP (see [ParseAuthorization] and [Authorization.CheckAccessKeyID]),
// so that a client with the wrong key pair is told so rather than that its signature does
// not match.
//
// Presigned requests (X-Amz-Signature, X-Amz-Credential or X-Amz-Algorithm in the query)
// are refused with [ErrIncompleteSignature]. Of the options only DisableURIPathEscaping,
// NormalizeURIPath, CacheSigningKey and Trace matter (Trace receives the canonical request
// and string to sign rebuilt from r, a session token redacted); optFns override the
// Signer's options for this call. The Deriver is called at most once, and only for a
// request that passed every other check.
func (s *Signer) VerifyHTTP(ctx context.Context, r *http.Request, payloadHash string, now time.Time, maxSkew time.Duration, optFns ...func(*Options)) (Authorization, error) {
	v, err := s.verify(ctx, r, payloadHash, now, maxSkew, s.resolve(optFns))
	clear(v.key)
	return v.auth, err
}

// verified is what a successful verification found, including kSigning (the caller's to
// zero) so that VerifyHTTPChunked can check the chunks without a second Deriver call.
type verified struct {
	auth Authorization
	sc   scope
	key  []byte
}

func (s *Signer) verify(ctx context.Context, r *http.Request, payloadHash string, now time.Time, maxSkew time.Duration, opts Options) (verified, error) {
	var v verified
	switch {
	case r == nil || r.URL == nil:
		return v, errors.New("sigv4: verify: no request or request URL")
	case payloadHash == "" || !validHeaderValue(payloadHash) || strings.ContainsAny(payloadHash, " \t"):
		return v, errors.New("sigv4: verify: invalid payload hash: pass X-Amz-Content-Sha256 or the hex SHA-256 of the body")
	case now.IsZero():
		return v, errors.New("sigv4: verify: the current time is not set")
	case s.deriver == nil:
		return v, errors.New("sigv4: signer has no deriver: create it with sigv4.New")
	}
	if err := ctx.Err(); err != nil {
		return v, fmt.Errorf("sigv4: verify request: %w", err)
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}

	query, queryErr := url.ParseQuery(r.URL.RawQuery)
	for _, k := range []string{querySignature, queryCredential, queryAlgorithm} {
		if _, ok := query[k]; ok {
			return v, verifyErr(ErrIncompleteSignature, "presigned (query string) requests are not accepted: sign with an Authorization header")
		}
	}
	h := foldHeader(r.Header)
	switch authz := h["authorization"]; len(authz) {
	case 0:
		return v, verifyErr(ErrMissingAuthentication, "no Authorization header")
	case 1:
		auth, err := ParseAuthorization(authz[0])
		if err != nil {
			return v, err
		}
		v.auth = auth
	default:
		return v, verifyErr(ErrIncompleteSignature, "more than one Authorization header")
	}
	auth := v.auth
	if !slices.Contains(auth.SignedHeaders, "host") {
		return v, verifyErr(ErrIncompleteSignature, "SignedHeaders does not include host")
	}

	dates := h["x-amz-date"]
	switch len(dates) {
	case 0:
		return v, verifyErr(ErrIncompleteSignature, "no X-Amz-Date header (the Date header is not accepted instead)")
	case 1:
	default:
		return v, verifyErr(ErrIncompleteSignature, "more than one X-Amz-Date header")
	}
	amzDate := dates[0]
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil || t.Format(amzDateFormat) != amzDate {
		return v, verifyErr(ErrIncompleteSignature, "X-Amz-Date is not an ISO 8601 basic time (yyyymmddThhmmssZ)")
	}
	if amzDate[:len(dateFormat)] != auth.Date {
		return v, verifyErr(ErrSignatureDoesNotMatch, "the credential date %s is not the date of X-Amz-Date %s", auth.Date, amzDate)
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return v, verifyErr(ErrRequestExpired, "X-Amz-Date %s is %v away from the verifier's clock (%s); at most %v is allowed",
			amzDate, d.Abs().Round(time.Second), now.UTC().Format(amzDateFormat), maxSkew)
	}

	if queryErr != nil {
		return v, verifyErr(ErrSignatureDoesNotMatch, "the query string is malformed (net/url cannot parse it), so it cannot be verified or re-signed")
	}
	if signed := h["x-amz-content-sha256"]; slices.Contains(auth.SignedHeaders, "x-amz-content-sha256") &&
		len(signed) == 1 && strings.TrimSpace(signed[0]) != payloadHash {
		return v, verifyErr(ErrSignatureDoesNotMatch, "the signed X-Amz-Content-Sha256 is not the payload hash passed to VerifyHTTP")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validHeaderName(method) {
		return v, verifyErr(ErrSignatureDoesNotMatch, "invalid request method")
	}
	uri := receivedPath(r)
	if !validPath(uri) {
		return v, verifyErr(ErrSignatureDoesNotMatch, "the request path does not start with / or has control characters")
	}
	if opts.NormalizeURIPath {
		uri = normalizePath(uri)
	}
	if !opts.DisableURIPathEscaping {
		uri = uriEncode(uri, true)
	}
	block, err := signedHeaderBlock(auth.SignedHeaders, requestHost(r), r.ContentLength, h)
	if err != nil {
		return v, err
	}

	sc := scope{amzDate: amzDate, date: auth.Date, region: auth.Region, service: auth.Service}
	cr := canonicalRequest(method, uri, canonicalQuery(query), block, strings.Join(auth.SignedHeaders, ";"), payloadHash)
	sts := stringToSign(sc, cr)
	if opts.Trace != nil {
		for _, tok := range h["x-amz-security-token"] {
			cr = redactToken(cr, strings.TrimSpace(stripExcessSpaces(tok)))
		}
		opts.Trace(cr, sts)
	}
	key, err := s.signingKey(ctx, sc, opts.CacheSigningKey)
	if err != nil {
		return v, err
	}
	want := hexSum(hmacSum(key, sts))
	if !hmac.Equal([]byte(want), []byte(auth.Signature)) {
		clear(key)
		e := verifyErr(ErrSignatureDoesNotMatch, "the signature was not computed over this request with this key")
		e.StringToSign = sts
		return v, e
	}
	v.sc, v.key = sc, key
	return v, nil
}

// foldHeader merges the keys of h that differ only in case under their lower-case name,
// values in the order of the sorted keys: the order canonicalHeaders signs them in.
func foldHeader(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		lk := strings.ToLower(k)
		out[lk] = append(out[lk], h[k]...)
	}
	return out
}

// receivedPath returns the request path as the client sent it. A server request keeps the
// request line's target in RequestURI; r.URL.EscapedPath would re-escape characters such
// as "{" or raw UTF-8 that the client signed as sent.
func receivedPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return uriPath(r.URL)
}

// signedHeaderBlock builds the canonical headers block over exactly names (a parsed
// SignedHeaders list: sorted, unique, lower case). canonicalHeaders decides itself which
// headers to sign; a verifier must take the client's list, which may name headers that
// canonicalHeaders never signs (user-agent, content-length: 0). Values are written as
// canonicalHeaders writes them.
func signedHeaderBlock(names []string, host string, contentLength int64, h map[string][]string) (string, error) {
	var b strings.Builder
	for _, n := range names {
		var vals []string
		switch n {
		case "host":
			if !validHost(host) {
				return "", verifyErr(ErrSignatureDoesNotMatch, "the request has no valid host")
			}
			vals = []string{host}
		case "content-length":
			// net/http keeps the length in ContentLength (-1: unknown, chunked) and a
			// Content-Length header, if any, in the map; client requests may have only
			// the field.
			if contentLength > 0 || contentLength == 0 && len(h[n]) > 0 {
				vals = []string{strconv.FormatInt(contentLength, 10)}
			}
		default:
			vals = h[n]
		}
		if len(vals) == 0 {
			return "", verifyErr(ErrSignatureDoesNotMatch, "signed header %q is not in the request", n)
		}
		b.WriteString(n)
		b.WriteByte(':')
		for i, v := range vals {
			if !validHeaderValue(v) {
				return "", verifyErr(ErrSignatureDoesNotMatch, "signed header %q has control characters", n)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			if n == "host" {
				b.WriteString(stripExcessSpaces(v))
			} else {
				b.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// canonicalRequest joins the six parts of "Create a canonical request".
func canonicalRequest(method, uri, query, headerBlock, signedHeaders, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + len(headerBlock) + len(signedHeaders) + len(payloadHash) + 5)
	for i, p := range [...]string{method, uri, query, headerBlock, signedHeaders, payloadHash} {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	return b.String()
}
