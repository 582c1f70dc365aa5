package signproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/awsendpoint"
	"github.com/awskeep/awskeep/core/sigv4"
)

// DefaultMaxBufferedBody bounds a body that must be read to be hashed (one without
// X-Amz-Content-Sha256). AWS's query and JSON APIs take far smaller requests.
const DefaultMaxBufferedBody = 32 << 20

// DeviceSigner signs forwarded requests with the device key (*devicesign.Key).
type DeviceSigner interface {
	SignHTTP(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*sigv4.Options)) error
	SignHTTPChunked(ctx context.Context, r *http.Request, service, region string, t time.Time, optFns ...func(*sigv4.Options)) (*sigv4.ChunkSigner, error)
}

// Options configure a Proxy. The zero value of each field selects its default.
type Options struct {
	// Upstream receives every request (scheme://host[:port], no path), e.g. a local
	// moto or a VPC endpoint; nil sends each to the AWS endpoint of its service and
	// region (awsendpoint.URL).
	Upstream *url.URL
	// Transport sends the forwarded requests; default a clone of http.DefaultTransport
	// (proxies from the environment) that leaves responses compressed as they come.
	Transport http.RoundTripper
	// MaxBufferedBody bounds a body read to be hashed; default DefaultMaxBufferedBody.
	MaxBufferedBody int64
	// MaxSkew is how far a client's X-Amz-Date may be from the proxy's clock; default
	// sigv4.DefaultMaxSkew.
	MaxSkew time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one line per request (method, service, region, status, time) at
	// info level and refusals at warn; nil logs nothing. Signatures and secrets are never
	// logged.
	Logger *slog.Logger
}

// Proxy is the signing proxy, an http.Handler. It is safe for concurrent use.
type Proxy struct {
	local    LocalKey
	verifier *sigv4.Signer
	device   DeviceSigner
	opts     Options
}

// New returns a Proxy that accepts requests signed with local and forwards them signed by
// device.
func New(local LocalKey, device DeviceSigner, opts Options) (*Proxy, error) {
	if opts.Upstream != nil {
		u := opts.Upstream
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("upstream %q: want scheme://host[:port] with http or https and no path", u.Redacted())
		}
	}
	if opts.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true // pass responses through as the upstream sent them
		opts.Transport = t
	}
	if opts.MaxBufferedBody <= 0 {
		opts.MaxBufferedBody = DefaultMaxBufferedBody
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = sigv4.DefaultMaxSkew
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// The local pair's kSigning may be cached: it guards nothing but this proxy.
	verifier := sigv4.New(sigv4.SoftwareDeriver(local.SecretAccessKey), func(o *sigv4.Options) { o.CacheSigningKey = true })
	return &Proxy{local: local, verifier: verifier, device: device, opts: opts}, nil
}

// Close zeroes the local key's cached signing keys.
func (p *Proxy) Close() { p.verifier.Close() }

// ServeHTTP verifies, re-signs, forwards and streams back one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := p.opts.Now()
	requestID := newRequestID()
	status, service, region, err := p.forward(w, r, start)
	log := p.opts.Logger.With("method", r.Method, "path", r.URL.Path, "service", service, "region", region, "request_id", requestID)
	if err != nil {
		ae := classify(err, service)
		if status == 0 { // nothing written yet
			ae.write(w, r, service, requestID)
			status = ae.status
		}
		log.Warn("request refused or failed", "status", status, "code", ae.code, "reason", ae.message, "elapsed", p.opts.Now().Sub(start))
		return
	}
	log.Info("request forwarded", "status", status, "elapsed", p.opts.Now().Sub(start))
}

// forward does the work of ServeHTTP. It returns the status written to w (0 if nothing
// was written, so the caller answers err), the credential scope, and an error.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, now time.Time) (status int, service, region string, err error) {
	ctx := r.Context()
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return 0, "", "", &sigv4.VerifyError{Err: sigv4.ErrMissingAuthentication, Reason: "no Authorization header (presigned URLs are not accepted)"}
	}
	auth, err := sigv4.ParseAuthorization(authz)
	if err != nil {
		return 0, "", "", err
	}
	service, region = auth.Service, auth.Region
	if err := auth.CheckAccessKeyID(p.local.AccessKeyID); err != nil {
		return 0, service, region, err
	}
	s3 := service == "s3"
	signOpts := func(o *sigv4.Options) { o.DisableURIPathEscaping = s3 }

	target, service, region, err := p.target(service, region)
	if err != nil {
		return 0, service, region, &awsError{http.StatusBadRequest, "InvalidRequest", "awskeep proxy: " + err.Error() + " (start the proxy with --upstream)"}
	}
	out := &http.Request{
		Method: r.Method,
		URL: &url.URL{Scheme: target.Scheme, Host: target.Host,
			Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:          target.Host,
		Header:        forwardHeader(r.Header),
		ContentLength: r.ContentLength,
	}
	out = out.WithContext(ctx)

	switch declared := r.Header.Get("X-Amz-Content-Sha256"); {
	case declared == sigv4.StreamingPayload || declared == sigv4.StreamingPayloadTrailer || declared == sigv4.StreamingUnsignedPayloadTrailer:
		_, incoming, err := p.verifier.VerifyHTTPChunked(ctx, r, now, p.opts.MaxSkew, signOpts)
		if err != nil {
			return 0, service, region, err
		}
		outgoing, err := p.device.SignHTTPChunked(ctx, out, service, region, now, signOpts)
		if err != nil {
			return 0, service, region, deviceError(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(sigv4.ResignChunks(pw, r.Body, incoming, outgoing)) }()
		out.Body = pr
	case declared != "":
		// The client declared the body's hash (S3): verify against the claim, forward the
		// body as it comes, and cut it off if it does not match the claim.
		if _, err := p.verifier.VerifyHTTP(ctx, r, declared, now, p.opts.MaxSkew, signOpts); err != nil {
			return 0, service, region, err
		}
		if err := p.device.SignHTTP(ctx, out, declared, service, region, now, signOpts); err != nil {
			return 0, service, region, deviceError(err)
		}
		out.Body = r.Body
		if isHexSHA256(declared) {
			out.Body = &checkedBody{r: r.Body, h: sha256.New(), want: declared}
		}
	default:
		body, err := io.ReadAll(io.LimitReader(r.Body, p.opts.MaxBufferedBody+1))
		if err != nil {
			return 0, service, region, &awsError{http.StatusBadRequest, "IncompleteBody", "awskeep proxy: read the request body: " + err.Error()}
		}
		if int64(len(body)) > p.opts.MaxBufferedBody {
			return 0, service, region, &awsError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				fmt.Sprintf("awskeep proxy: a body without X-Amz-Content-Sha256 is read to hash it, up to %d bytes", p.opts.MaxBufferedBody)}
		}
		sum := sha256.Sum256(body)
		payloadHash := hex.EncodeToString(sum[:])
		if _, err := p.verifier.VerifyHTTP(ctx, r, payloadHash, now, p.opts.MaxSkew, signOpts); err != nil {
			return 0, service, region, err
		}
		if err := p.device.SignHTTP(ctx, out, payloadHash, service, region, now, signOpts); err != nil {
			return 0, service, region, deviceError(err)
		}
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if len(body) == 0 {
			out.Body = http.NoBody
		}
	}

	resp, err := p.opts.Transport.RoundTrip(out)
	if err != nil {
		var mismatch *hashMismatch
		if errors.As(err, &mismatch) {
			return 0, service, region, &awsError{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "awskeep proxy: " + mismatch.Error()}
		}
		return 0, service, region, &awsError{http.StatusBadGateway, "BadGateway", "awskeep proxy: send to " + target.Host + ": " + errText(err)}
	}
	defer resp.Body.Close()
	copyResponseHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	if err := streamBody(w, resp.Body); err != nil {
		return resp.StatusCode, service, region, &awsError{resp.StatusCode, "ResponseInterrupted", "awskeep proxy: stream the response: " + errText(err)}
	}
	return resp.StatusCode, service, region, nil
}

// target is where a request the client signed for (service, region) goes, and the scope
// to sign it for there: the upstream with the client's scope, or the AWS endpoint of the
// scope with the scope that endpoint takes (a global service such as IAM signs for its
// partition's one region whatever region the client named).
func (p *Proxy) target(service, region string) (*url.URL, string, string, error) {
	if p.opts.Upstream != nil {
		return p.opts.Upstream, service, region, nil
	}
	endpoint, err := awsendpoint.URL(awsendpoint.Scope{Service: service, Region: region})
	if err != nil {
		return nil, service, region, err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, service, region, err
	}
	if sc, err := awsendpoint.Infer(u.Host); err == nil && sc.Service == service {
		region = sc.Region
	}
	return u, service, region, nil
}

// deviceError marks a failure to sign with the device: the client sees 503, which SDKs
// retry, with the reason.
func deviceError(err error) error {
	return &awsError{http.StatusServiceUnavailable, "ServiceUnavailable", "awskeep proxy: sign with the device key: " + errText(err)}
}

// errText is err's text on one line.
func errText(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// hopHeaders are meaningful for one connection only (RFC 9110 section 7.6.1), plus what the
// proxy sets itself.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// forwardHeader is the client's header without hop-by-hop fields, the client's signature
// and what the device signature replaces.
func forwardHeader(in http.Header) http.Header {
	h := in.Clone()
	for _, name := range h.Values("Connection") {
		for _, f := range strings.Split(name, ",") {
			h.Del(textproto.TrimString(f))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Expect", "Content-Length"} {
		h.Del(name)
	}
	return h
}

func copyResponseHeader(dst, src http.Header) {
	for name, values := range src {
		dst[name] = append([]string(nil), values...)
	}
	for _, name := range hopHeaders {
		dst.Del(name)
	}
}

// streamBody copies the response as it arrives, flushing each piece, so large downloads
// stream and event streams are not held back.
func streamBody(w http.ResponseWriter, body io.Reader) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// checkedBody passes a body through and fails at its end if its SHA-256 is not the one
// the client declared and signed; the transport then aborts the forwarded request.
type checkedBody struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
}

type hashMismatch struct{ got, want string }

func (e *hashMismatch) Error() string {
	return fmt.Sprintf("the body's SHA-256 %s is not the X-Amz-Content-Sha256 %s the request declared", e.got, e.want)
}

func (c *checkedBody) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.h.Write(b[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want {
			return n, &hashMismatch{got, c.want}
		}
	}
	return n, err
}

func (c *checkedBody) Close() error { return c.r.Close() }

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// newRequestID is a random id for the proxy's own answers and log lines.
func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
