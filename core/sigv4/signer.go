package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

// Payload hashes with a meaning of their own.
const (
	// EmptyPayloadHash is the hex SHA-256 of an empty body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// UnsignedPayload leaves the body out of the signature (S3, presigned URLs).
	UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// Header and query names the signer sets.
const (
	headerAuthorization = "Authorization"
	headerDate          = "X-Amz-Date"
	headerSecurityToken = "X-Amz-Security-Token"
	headerContentSHA256 = "X-Amz-Content-Sha256"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySecurityToken = "X-Amz-Security-Token"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
)

// MaxPresignExpiry is the longest validity SigV4 allows for a presigned URL (7 days).
const MaxPresignExpiry = 7 * 24 * time.Hour

// Credentials are the public half of an AWS credential: the access key ID and, for
// temporary credentials, the session token. The secret stays with the [Deriver].
type Credentials struct {
	AccessKeyID  string
	SessionToken string
}

// Options configure a [Signer]. The zero value signs like aws-sdk-go-v2's v4.Signer with
// its defaults.
type Options struct {
	// DisableURIPathEscaping uses the request path as it is sent, without encoding it a
	// second time. Amazon S3 wants this; every other service double-encodes.
	DisableURIPathEscaping bool

	// NormalizeURIPath removes "." and ".." segments and repeated "/" from the path before
	// it is encoded, as services other than S3 do on their side. Off by default because
	// aws-sdk-go-v2 does not normalize and SDK-built requests never need it; turn it on
	// when signing paths that come from elsewhere (never for S3).
	NormalizeURIPath bool

	// DisableHeaderHoisting keeps X-Amz-* headers as signed headers when presigning,
	// instead of moving them into the query (see [Signer.PresignHTTP]).
	DisableHeaderHoisting bool

	// UnsignedSessionToken leaves the session token out of the signature and adds
	// X-Amz-Security-Token (header or query) after signing, for services that verify the
	// signature without it ("omit_session_token" in the AWS signing test suite).
	UnsignedSessionToken bool

	// AddContentSHA256Header sets X-Amz-Content-Sha256 to the payload hash and signs it
	// (header signing only; presigning never adds it). Amazon S3 requires this header.
	AddContentSHA256Header bool

	// DisableSessionToken leaves the session token out entirely: neither signed nor added
	// (aws-sdk-go-v2's v4.SignerOptions.DisableSessionToken, for SigV4 variants that carry
	// the token elsewhere).
	DisableSessionToken bool

	// CacheSigningKey keeps the derived signing key kSigning per (date, region, service)
	// and reuses it, so the Deriver (one device round trip) runs once per day and scope
	// instead of once per request. Off by default: a cached kSigning lets anyone who can
	// read this process's memory sign for that date, region and service without the
	// device. kDate and the secret are never cached; a cached key is zeroed when its date
	// ends and by [Signer.Close].
	CacheSigningKey bool

	// Trace, when set, receives the canonical request and the string to sign of every
	// signature made (aws-sdk-go-v2's LogSigning). A session token in the canonical request
	// is replaced by "REDACTED".
	Trace func(canonicalRequest, stringToSign string)
}

// Signer computes AWS Signature Version 4 signatures with the first key derivation step
// delegated to a [Deriver]. It is safe for concurrent use.
type Signer struct {
	deriver Deriver
	options Options
	cache   keyCache
	flight  singleflight.Group // concurrent cache misses of one scope
}

// New returns a Signer that obtains kDate from d.
func New(d Deriver, optFns ...func(*Options)) *Signer {
	s := &Signer{deriver: d}
	for _, fn := range optFns {
		fn(&s.options)
	}
	return s
}

// Close zeroes and forgets the cached signing keys; the Signer can still sign afterwards,
// asking the Deriver every time. Call it when the Deriver's device is closed.
func (s *Signer) Close() { s.cache.close() }

// SignHTTP signs r for service in region at time t ("Create a signed AWS API request")
// and adds the signature as an Authorization header. payloadHash is the hex SHA-256 of the
// body ([EmptyPayloadHash] for none) or [UnsignedPayload]; optFns override the Signer's
// options for this call.
//
// It sets X-Amz-Date, X-Amz-Security-Token when creds has a session token (signed unless
// [Options.UnsignedSessionToken]), X-Amz-Content-Sha256 with
// [Options.AddContentSHA256Header], and Authorization. Like aws-sdk-go-v2 it also rewrites
// r.URL.RawQuery into its canonical form, so the query sent is the query signed, and drops
// a default port (:443 for https, :80 for http) from r.Host. Any other port stays in the
// signed host. r is changed only when signing succeeds.
//
// Unlike aws-sdk-go-v2 it refuses what no server could verify: a missing or non-ASCII host,
// a relative path or one with control characters, a malformed query (net/url would
// silently drop the bad part), header names or values that net/http would not send, and
// credential scope parts containing "/". An empty r.Method is signed as GET, which is what
// net/http sends.
//
// Errors of the Deriver are wrapped ("sigv4: derive date key: %w") so errors.Is finds
// the backend's sentinel errors.
func (s *Signer) SignHTTP(ctx context.Context, r *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time, optFns ...func(*Options)) error {
	opts := s.resolve(optFns)
	sig, err := s.sign(ctx, r, payloadHash, creds, service, region, t, opts, 0)
	if err != nil {
		return err
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	for _, kv := range sig.setHeaders {
		delHeaderFold(r.Header, kv[0])
		r.Header[kv[0]] = []string{kv[1]}
	}
	if opts.UnsignedSessionToken && !opts.DisableSessionToken && creds.SessionToken != "" {
		delHeaderFold(r.Header, headerSecurityToken)
		r.Header[headerSecurityToken] = []string{creds.SessionToken}
	}
	delHeaderFold(r.Header, headerAuthorization)
	r.Header[headerAuthorization] = []string{authorization(creds.AccessKeyID, sig.scope, sig.signedHeaders, sig.signature)}
	if sig.host != requestHost(r) {
		r.Host = sig.host
	}
	r.URL.RawQuery = sig.query
	return nil
}

// PresignHTTP returns a presigned URL for r valid for expires (at most [MaxPresignExpiry],
// whole seconds) from t, and the headers that were signed with their values: whoever sends
// the URL must send exactly those headers. r is not changed.
//
// The query gets X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Security-Token when creds has a session token, and finally
// X-Amz-Signature. X-Amz-* headers that S3 does not require as headers move into the query
// unless [Options.DisableHeaderHoisting]. payloadHash is usually [UnsignedPayload] for S3
// and [EmptyPayloadHash] elsewhere.
func (s *Signer) PresignHTTP(ctx context.Context, r *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time, expires time.Duration, optFns ...func(*Options)) (signedURL string, signedHeader http.Header, err error) {
	if expires < time.Second || expires > MaxPresignExpiry {
		return "", nil, fmt.Errorf("sigv4: presign: expiry %v is outside 1s to %v", expires, MaxPresignExpiry)
	}
	opts := s.resolve(optFns)
	sig, err := s.sign(ctx, r, payloadHash, creds, service, region, t, opts, expires)
	if err != nil {
		return "", nil, err
	}
	u := *r.URL
	q := sig.query
	if opts.UnsignedSessionToken && !opts.DisableSessionToken && creds.SessionToken != "" {
		q += "&" + querySecurityToken + "=" + uriEncode(creds.SessionToken, false)
	}
	u.RawQuery = q + "&" + querySignature + "=" + sig.signature
	signedHeader = make(http.Header, len(sig.signedValues))
	for name, vs := range sig.signedValues {
		signedHeader[textproto.CanonicalMIMEHeaderKey(name)] = append([]string(nil), vs...)
	}
	return u.String(), signedHeader, nil
}

func (s *Signer) resolve(optFns []func(*Options)) Options {
	opts := s.options
	for _, fn := range optFns {
		fn(&opts)
	}
	return opts
}

// signed is one computed signature and what went into it. Tests compare its parts with the
// AWS signing test suite.
type signed struct {
	canonicalRequest string
	stringToSign     string
	signature        string // hex

	scope         scope
	signedHeaders string              // "host;x-amz-date"
	signedValues  map[string][]string // lower-case name -> values, as signed
	query         string              // canonical query string, without X-Amz-Signature
	host          string              // the host signed (default port dropped)
	setHeaders    [][2]string         // header signing: headers SignHTTP sets on r (name, value)
}

// sign builds the canonical request and string to sign for r and signs them. expires > 0
// means presigning (query parameters), otherwise header signing. It does not change r.
func (s *Signer) sign(ctx context.Context, r *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time, opts Options, expires time.Duration) (*signed, error) {
	if opts.DisableSessionToken {
		creds.SessionToken = ""
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sigv4: sign request: %w", err)
	}
	if s.deriver == nil {
		return nil, errors.New("sigv4: signer has no deriver: create it with sigv4.New")
	}
	sig, err := prepare(r, payloadHash, creds, service, region, t, opts, expires)
	if err != nil {
		return nil, err
	}
	sum, err := s.mac(ctx, sig.scope, opts.CacheSigningKey, sig.stringToSign)
	if err != nil {
		return nil, err
	}
	sig.signature = hexSum(sum)
	if opts.Trace != nil {
		opts.Trace(redactToken(sig.canonicalRequest, creds.SessionToken), sig.stringToSign)
	}
	return sig, nil
}

// prepare computes everything up to the string to sign; it needs no key.
func prepare(r *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time, opts Options, expires time.Duration) (*signed, error) {
	if err := checkInputs(r, payloadHash, creds, service, region, t); err != nil {
		return nil, err
	}
	presign := expires > 0
	sc := newScope(t, region, service)
	host := sanitizeHost(r.URL.Scheme, requestHost(r))
	if !validHost(host) {
		return nil, fmt.Errorf("sigv4: invalid request host %q: set the request URL's host, in ASCII (punycode)", host)
	}
	if err := checkHeader(r.Header); err != nil {
		return nil, err
	}
	if !validPath(uriPath(r.URL)) {
		return nil, errors.New("sigv4: invalid request path: it must start with / and have no control characters")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("sigv4: request query: %w", err)
	}
	sig := &signed{scope: sc, host: host}

	var header http.Header
	var omit string // a header left out of the signature (an unsigned session token)
	if presign {
		query.Set(queryAlgorithm, algorithm)
		if creds.SessionToken != "" && !opts.UnsignedSessionToken {
			query.Set(querySecurityToken, creds.SessionToken)
		}
		query.Set(queryDate, sc.amzDate)
		query.Set(queryCredential, creds.AccessKeyID+"/"+sc.String())
		query.Set(queryExpires, strconv.FormatInt(int64(expires/time.Second), 10))
		header = make(http.Header, len(r.Header))
		for k, vs := range r.Header {
			switch {
			case opts.UnsignedSessionToken && strings.EqualFold(k, headerSecurityToken):
			case !opts.DisableHeaderHoisting && hoistable(k):
				query[hoistedQueryKey(k)] = vs
			default:
				header[k] = vs
			}
		}
	} else {
		// The request's own header, without a copy: what the signer sets replaces
		// same-named fields in the canonical headers, as it will on r.
		header = r.Header
		sig.setHeaders = append(make([][2]string, 0, 3), [2]string{headerDate, sc.amzDate})
		if creds.SessionToken != "" && !opts.UnsignedSessionToken {
			sig.setHeaders = append(sig.setHeaders, [2]string{headerSecurityToken, creds.SessionToken})
		}
		if opts.AddContentSHA256Header {
			sig.setHeaders = append(sig.setHeaders, [2]string{headerContentSHA256, payloadHash})
		}
		if opts.UnsignedSessionToken {
			omit = headerSecurityToken
		}
	}

	block, signedHeaders, values := canonicalHeaders(host, r.ContentLength, header, sig.setHeaders, omit, presign)
	sig.signedHeaders, sig.signedValues = signedHeaders, values
	if presign {
		query.Set(querySignedHeaders, signedHeaders)
	}
	sig.query = canonicalQuery(query)

	uri := uriPath(r.URL)
	if opts.NormalizeURIPath {
		uri = normalizePath(uri)
	}
	if !opts.DisableURIPathEscaping {
		uri = uriEncode(uri, true)
	}

	method := r.Method
	if method == "" {
		method = http.MethodGet // net/http sends GET for an empty method
	}

	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(sig.query) + len(block) + len(signedHeaders) + len(payloadHash) + 5)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(sig.query)
	b.WriteByte('\n')
	b.WriteString(block)
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	sig.canonicalRequest = b.String()
	sig.stringToSign = stringToSign(sc, sig.canonicalRequest)
	return sig, nil
}

// redactToken hides a session token in a canonical request handed to Options.Trace: trace
// output goes to logs, where tokens must never appear.
func redactToken(canonicalRequest, token string) string {
	if token == "" {
		return canonicalRequest
	}
	canonicalRequest = strings.ReplaceAll(canonicalRequest, token, "REDACTED")
	return strings.ReplaceAll(canonicalRequest, uriEncode(token, false), "REDACTED")
}
