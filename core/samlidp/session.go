package samlidp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

const (
	// maxBody bounds every answer read. A SAMLResponse with many roles is tens of KiB.
	maxBody = 8 << 20
	// maxRedirects is net/http's own default limit, said here so the error can name it.
	maxRedirects = 10
	// maxFormHops bounds the intermediate auto-submit forms followed in one login.
	maxFormHops = 5
	// userAgent identifies awskeep while reading as a browser to IdPs that serve their
	// login page only to one ("Mozilla/5.0" prefix).
	userAgent  = "Mozilla/5.0 (compatible; awskeep)"
	acceptHTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
	acceptJSON = "application/json"

	viaSetting  = "awskeep_saml_url"
	viaRedirect = "a redirect"
	viaForm     = "a form's action"
	viaOkta     = "Okta's answer"
)

// session is one login: its own client (cookie jar, redirect policy), the IdP's name for
// errors and the secrets to scrub from any text taken from the IdP.
type session struct {
	client  *http.Client
	idp     string // "Okta", "the IdP at https://idp.example.com"
	secrets []string
	// explain, when set, gets a failed request's cause first (Kerberos: spnego's errors);
	// a nil answer leaves it to transportError.
	explain func(err error) error
}

// newSession copies base (nil: a default client) and gives the copy a fresh cookie jar
// and awskeep's redirect policy.
func newSession(base *http.Client, idp string) *session {
	var c http.Client
	if base != nil {
		c = *base
	}
	// cookiejar.New fails only with an invalid option; publicsuffix keeps an IdP from
	// setting cookies for a whole public suffix.
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	c.Jar = jar
	c.CheckRedirect = checkRedirect
	return &session{client: &c, idp: idp}
}

// secret adds v to the values scrubbed from IdP texts.
func (s *session) secret(v string) {
	if v != "" {
		s.secrets = append(s.secrets, v)
	}
}

// scrub removes every secret from text the IdP sent (an error message could echo the
// username field, or worse) and caps it for an error line.
func (s *session) scrub(text string) string {
	for range 2 { // before and after white space is collapsed
		for _, v := range s.secrets {
			text = strings.ReplaceAll(text, v, "[redacted]")
		}
		text = strings.Join(strings.Fields(text), " ")
	}
	return capText(text, 200)
}

// checkRedirect is the login client's redirect policy: at most maxRedirects, https only
// (loopback excepted), and a body (a password) never resent to another origin by a 307
// or 308.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &AnswerError{IdP: "the IdP", Method: via[0].Method, URL: redactURL(via[0].URL), Status: statusOf(req.Response),
			Advice: fmt.Sprintf("stopped after %d redirects (a redirect loop?)", maxRedirects)}
	}
	if !secureURL(req.URL) {
		return &InsecureURLError{URL: redactURL(req.URL), Via: viaRedirect}
	}
	prev := via[len(via)-1]
	if req.Response != nil && (req.Response.StatusCode == http.StatusTemporaryRedirect || req.Response.StatusCode == http.StatusPermanentRedirect) &&
		prev.Method != http.MethodGet && prev.Method != http.MethodHead && origin(req.URL) != origin(prev.URL) {
		return &AnswerError{IdP: "the IdP", Method: prev.Method, URL: redactURL(prev.URL), Status: req.Response.StatusCode,
			Advice: "refusing to resend the form to " + origin(req.URL)}
	}
	return nil
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// response is an answer read whole.
type response struct {
	method string   // of the last request, after redirects
	url    *url.URL // after redirects
	status int
	header http.Header
	body   []byte
}

// request is one request: body is form- or JSON-encoded per contentType.
type request struct {
	method      string
	url         *url.URL
	body        string
	contentType string
	accept      string
	via         string // where url came from, for InsecureURLError
}

// do sends r bounded by ctx and reads the answer whole. Errors never hold a URL's query.
func (s *session) do(ctx context.Context, r request) (*response, error) {
	if !secureURL(r.url) {
		return nil, &InsecureURLError{URL: redactURL(r.url), Via: r.via}
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	// The URL is set after building: NewRequest's parse error would quote it, query and all.
	req, err := http.NewRequestWithContext(ctx, r.method, "", body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, redactURL(r.url), err)
	}
	u := *r.url
	req.URL, req.Host = &u, u.Host
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", r.accept)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, s.transportError(ctx, r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, s.transportError(ctx, request{method: r.method, url: resp.Request.URL}, err)
	}
	if len(data) > maxBody {
		return nil, &AnswerError{IdP: s.idp, Method: r.method, URL: redactURL(resp.Request.URL), Status: resp.StatusCode,
			Advice: fmt.Sprintf("the answer is larger than %d MiB", maxBody>>20)}
	}
	return &response{method: resp.Request.Method, url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// transportError explains a request that got no answer. The *url.Error net/http returns
// quotes the full URL (an Okta session token is in its query): only its cause is kept.
func (s *session) transportError(ctx context.Context, r request, err error) error {
	failing := r.url
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		if p, perr := url.Parse(ue.URL); perr == nil && p.Host != "" {
			failing = p
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("no answer from the IdP at %s in time (raise --timeout if the IdP is slow): %w", origin(failing), ctxErr)
		}
		return fmt.Errorf("login at %s: %w", origin(failing), ctxErr)
	}
	if s.explain != nil {
		if e := s.explain(err); e != nil {
			return e
		}
	}
	// The redirect policy's own errors say what they mean already.
	var ie *InsecureURLError
	var ae *AnswerError
	if errors.As(err, &ie) || errors.As(err, &ae) {
		return err
	}
	if !isNetworkError(err) {
		return &requestError{method: r.method, url: redactURL(failing), err: err}
	}
	ue2 := &UnreachableError{Origin: origin(failing), Err: err}
	switch {
	case isCertificateError(err):
		ue2.Hint = "set ca_bundle in the profile if the IdP's certificate comes from a private CA"
	case r.via == viaSetting && failing.Host == r.url.Host:
		ue2.Hint = "check awskeep_saml_url, and the network, VPN or proxy to the IdP"
	default:
		ue2.Hint = "check the network, VPN or proxy to it"
	}
	return ue2
}

// requestError is a request that failed for a reason that is not the network: in
// practice an error of the HTTP client's transport (package spnego's Negotiate).
type requestError struct {
	method, url string
	err         error
}

func (e *requestError) Error() string { return e.method + " " + e.url + ": " + e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// isNetworkError reports whether err is the network's: DNS, a refused or reset
// connection, a timeout, TLS, a connection closed before the answer.
func isNetworkError(err error) bool {
	var ne net.Error
	var rh tls.RecordHeaderError
	return errors.As(err, &ne) || errors.As(err, &rh) || isCertificateError(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isCertificateError(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cv)
}

// secureURL reports whether a request to u may carry a password or an assertion: https,
// or http to a loopback host.
func secureURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") {
			return true
		}
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.IsLoopback()
	}
	return false
}

// origin is scheme://host[:port].
func origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// redactURL is u without its query, fragment and user info: what errors may show.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, Opaque: u.Opaque}
	return c.String()
}

// redactURLString is raw cut before its query or fragment, for a URL that does not parse.
func redactURLString(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			raw = raw[:j+3] + raw[i+1:]
		}
	}
	return capText(raw, 200)
}

// resolve resolves ref against base for a form action or an Okta link.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return nil, errors.New("not a URL")
	}
	u := base.ResolveReference(r)
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// capText collapses white space and cuts text to at most n runes.
func capText(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		text = string(r[:n]) + "..."
	}
	return text
}

func statusText(code int) string { return http.StatusText(code) }
