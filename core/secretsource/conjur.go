package secretsource

// Conjur is called through its documented REST API (CyberArk Conjur Open Source / Secrets
// Manager "Authenticate" and "Retrieve a secret"), not through
// github.com/cyberark/conjur-api-go v0.15.7, which the module proxy serves:
//   - none of its calls takes a context.Context, so --timeout and Ctrl-C could not stop a
//     hung Conjur;
//   - its logging package configures itself in init from $CONJURAPI_LOG, which may name
//     stdout: a credential_process's stdout belongs to the credential JSON alone;
//   - its client constructors set up credential storage (the OS keyring or ~/.netrc) and
//     read CONJUR_* variables behind the caller's back; Options here decide what is read;
//   - it would bring aws-sdk-go-v2/config, logrus, zalando/go-keyring and godbus/dbus/v5
//     into core for two HTTP requests.
// The two requests are small and stable (they are the v5 API every Conjur client uses):
//
//	POST {url}/authn/{account}/{url-escaped login}/authenticate   body: the API key
//	  -> 200 and a JSON access token (valid 8 minutes), 401 for a wrong login or key
//	GET  {url}/secrets/{account}/variable/{url-escaped id}
//	  Authorization: Token token="<base64 of the access token>"
//	  -> 200 and the value, 401, 403 (no execute privilege), 404 (no such variable,
//	     no value yet, or not visible to the login)

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables Conjur's own clients read; ConjurOptions fields that are set win.
const (
	EnvConjurApplianceURL   = "CONJUR_APPLIANCE_URL"
	EnvConjurAccount        = "CONJUR_ACCOUNT"
	EnvConjurAuthnLogin     = "CONJUR_AUTHN_LOGIN"
	EnvConjurAuthnAPIKey    = "CONJUR_AUTHN_API_KEY"
	EnvConjurCertFile       = "CONJUR_CERT_FILE"
	EnvConjurSSLCertificate = "CONJUR_SSL_CERTIFICATE"
)

// Profile settings that stand for the variables above. core/engine reads them into
// ConjurOptions, so a profile setting wins over its variable; messages name both. The API
// key has no setting of its own: a profile is no place for a secret, so
// awskeep_conjur_api_key_source names where it is (see ParseConjurAPIKeySource).
const (
	SettingConjurURL          = "awskeep_conjur_url"
	SettingConjurAccount      = "awskeep_conjur_account"
	SettingConjurLogin        = "awskeep_conjur_login"
	SettingConjurCertFile     = "awskeep_conjur_cert_file"
	SettingConjurAPIKeySource = "awskeep_conjur_api_key_source"
)

// conjurSettings maps each variable to the profile setting that stands for it.
var conjurSettings = map[string]string{
	EnvConjurApplianceURL: SettingConjurURL,
	EnvConjurAccount:      SettingConjurAccount,
	EnvConjurAuthnLogin:   SettingConjurLogin,
	EnvConjurAuthnAPIKey:  SettingConjurAPIKeySource,
	EnvConjurCertFile:     SettingConjurCertFile,
}

// setHint says where to set what env stands for: "$CONJUR_ACCOUNT or awskeep_conjur_account
// in the profile".
func setHint(env string) string {
	return "$" + env + " or " + conjurSettings[env] + " in the profile"
}

// ConjurOptions say where Conjur is and who logs in, with API-key authentication (the
// authn authenticator). Each field left empty is read from its environment variable.
// Printing a ConjurOptions (%v, %+v, %#v, slog) never shows the API key.
type ConjurOptions struct {
	// ApplianceURL is Conjur's base URL, e.g. https://conjur.example.com (with a path for
	// Secrets Manager SaaS, e.g. https://tenant.secretsmgr.cyberark.cloud/api);
	// $CONJUR_APPLIANCE_URL. Plain http is accepted for a loopback host only.
	ApplianceURL string
	// Account is the Conjur organisation account; $CONJUR_ACCOUNT.
	Account string
	// Login is the user or host id, e.g. alice or host/awskeep/laptop;
	// $CONJUR_AUTHN_LOGIN.
	Login string
	// APIKey is the login's API key; when empty, APIKeySource's answer, then
	// $CONJUR_AUTHN_API_KEY.
	APIKey string
	// APIKeySource gives the API key when APIKey is empty (awskeep_conjur_api_key_source,
	// made by ParseConjurAPIKeySource). It is read on every Secret, only once the other
	// settings are known to be complete, and wins over $CONJUR_AUTHN_API_KEY.
	APIKeySource Source
	// CertFile is a PEM file with the certificate(s) that verify Conjur's TLS
	// certificate; $CONJUR_CERT_FILE. When it (or SSLCertificate) is given only those
	// certificates are trusted, as Conjur's own clients do.
	CertFile string
	// SSLCertificate is the same as PEM text; $CONJUR_SSL_CERTIFICATE. It wins over
	// CertFile (but $CONJUR_SSL_CERTIFICATE does not win over a CertFile that is set).
	SSLCertificate string
	// Origins name where the fields above were set, for messages, keyed by the variable
	// each field stands for (EnvConjurApplianceURL, ..., EnvConjurAuthnAPIKey for
	// APIKeySource), e.g. "/home/u/.aws/config:12 (awskeep_conjur_url)". A field that is set
	// without an origin is named by its field name; one read from the environment by its
	// variable.
	Origins map[string]string
}

// String shows every field but the API key, which shows as "set" or "unset" (and its
// source by name), and the origins.
func (c ConjurOptions) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	source := "unset"
	if c.APIKeySource != nil {
		source = c.APIKeySource.String()
	}
	cert := "unset"
	if c.SSLCertificate != "" {
		cert = "set"
	}
	return fmt.Sprintf("{ApplianceURL:%q Account:%q Login:%q APIKey:%s APIKeySource:%s CertFile:%q SSLCertificate:%s}",
		c.ApplianceURL, c.Account, c.Login, key, source, c.CertFile, cert)
}

// from names where the value that env stands for came from: Origins[env] or the field's
// name for a field that is set, "$ENV" otherwise.
func (c ConjurOptions) from(env string) string {
	field := map[string]struct{ name, value string }{
		EnvConjurApplianceURL: {"ConjurOptions.ApplianceURL", c.ApplianceURL},
		EnvConjurAccount:      {"ConjurOptions.Account", c.Account},
		EnvConjurAuthnLogin:   {"ConjurOptions.Login", c.Login},
		EnvConjurAuthnAPIKey:  {"ConjurOptions.APIKey", c.APIKey},
		EnvConjurCertFile:     {"ConjurOptions.CertFile", c.CertFile},
	}[env]
	set := field.value != "" || (env == EnvConjurAuthnAPIKey && c.APIKeySource != nil)
	switch {
	case !set:
		return "$" + env
	case c.Origins[env] != "":
		return c.Origins[env]
	case env == EnvConjurAuthnAPIKey && c.APIKey == "":
		return "ConjurOptions.APIKeySource"
	}
	return field.name
}

// GoString is String, so %#v does not show the API key either.
func (c ConjurOptions) GoString() string { return "secretsource.ConjurOptions" + c.String() }

// LogValue is String, for log/slog.
func (c ConjurOptions) LogValue() slog.Value { return slog.StringValue(c.String()) }

const (
	// defaultConjurTimeout bounds a Conjur exchange when Options.HTTPClient is nil, like
	// awskeep's --timeout default.
	defaultConjurTimeout = 30 * time.Second
	// maxToken bounds the access token read; Conjur's are well under 2 KiB.
	maxToken = 64 << 10
	// maxSecret bounds the variable read: it is a password.
	maxSecret = 64 << 10
	// maxDrain bounds what is read from an error response before closing it.
	maxDrain = 4 << 10
)

// conjurSource reads one variable.
type conjurSource struct {
	variable string
	opts     Options
}

func (s *conjurSource) String() string       { return KindConjur + ":" + s.variable }
func (s *conjurSource) GoString() string     { return goString(s) }
func (s *conjurSource) LogValue() slog.Value { return logValue(s) }
func (s *conjurSource) errorf(kind, cause error, msg string, args ...any) error {
	return newError(s.String(), kind, cause, msg, args...)
}

// conjurConfig is ConjurOptions resolved against the environment and checked.
type conjurConfig struct {
	base    string // the appliance URL without a trailing slash
	host    string // for messages
	account string
	login   string
	apiKey  string
	roots   *x509.CertPool // nil: the client's own trust
}

// Secret logs in with the API key and reads the variable.
func (s *conjurSource) Secret(ctx context.Context) (string, error) {
	var value string
	err := s.login(ctx, func(cfg conjurConfig, client *http.Client, token []byte) (err error) {
		value, err = s.retrieve(ctx, client, cfg, token)
		return err
	})
	return value, err
}

// login resolves the settings, logs in with the API key and calls then with the access
// token, which is cleared after; Secret and Check differ only in what they do with it.
func (s *conjurSource) login(ctx context.Context, then func(conjurConfig, *http.Client, []byte) error) error {
	cfg, err := s.config(ctx)
	if err != nil {
		return err
	}
	client, done, err := s.client(cfg)
	if err != nil {
		return err
	}
	defer done()
	token, err := s.authenticate(ctx, client, cfg)
	if err != nil {
		return err
	}
	defer clear(token)
	return then(cfg, client, token)
}

// config resolves the settings against the environment and checks them; the API key,
// which may take a keyring helper run, is read last, once the rest is known to be usable.
func (s *conjurSource) config(ctx context.Context) (conjurConfig, error) {
	o := s.opts.Conjur
	pick := func(v, env string) string {
		if v != "" {
			return v
		}
		return s.opts.getenv(env)
	}
	raw := pick(o.ApplianceURL, EnvConjurApplianceURL)
	cfg := conjurConfig{
		account: pick(o.Account, EnvConjurAccount),
		login:   pick(o.Login, EnvConjurAuthnLogin),
	}
	if raw == "" {
		return cfg, s.errorf(ErrNotConfigured, nil, "no Conjur URL: set %s (e.g. https://conjur.example.com)", setHint(EnvConjurApplianceURL))
	}
	u, err := checkConjurURL(raw)
	if err != nil {
		kind := ErrNotConfigured
		if err.insecure {
			kind = ErrInsecure
		}
		return cfg, s.errorf(kind, nil, "the Conjur URL (%s) %s", o.from(EnvConjurApplianceURL), err)
	}
	cfg.base = strings.TrimRight(u.String(), "/")
	cfg.host = u.Scheme + "://" + u.Host
	switch {
	case cfg.account == "":
		return cfg, s.errorf(ErrNotConfigured, nil, "no Conjur account: set %s", setHint(EnvConjurAccount))
	case cfg.login == "":
		return cfg, s.errorf(ErrNotConfigured, nil, "no Conjur login: set %s (e.g. alice or host/awskeep/laptop)", setHint(EnvConjurAuthnLogin))
	case !printable(cfg.account) || !printable(cfg.login):
		return cfg, s.errorf(ErrNotConfigured, nil, "the Conjur account or login holds control characters")
	}
	if u.Scheme == "https" {
		pem, what, err := s.certificate()
		if err != nil {
			return cfg, err
		}
		if pem != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cfg, s.errorf(ErrNotConfigured, nil, "%s holds no PEM certificate", what)
			}
			cfg.roots = pool
		}
	}
	cfg.apiKey = o.APIKey
	if cfg.apiKey == "" && o.APIKeySource != nil {
		key, err := o.APIKeySource.Secret(ctx)
		if err != nil {
			// err names its source and says what to do; its text holds no secret.
			return cfg, s.errorf(ErrNotConfigured, err, "read the Conjur API key (%s)", o.from(EnvConjurAuthnAPIKey))
		}
		cfg.apiKey = key
	}
	if cfg.apiKey == "" {
		cfg.apiKey = s.opts.getenv(EnvConjurAuthnAPIKey)
	}
	if cfg.apiKey == "" {
		return cfg, s.errorf(ErrNotConfigured, nil, "no Conjur API key for login %q: set %s (keyring:NAME or file:PATH)", cfg.login, setHint(EnvConjurAuthnAPIKey))
	}
	return cfg, nil
}

// urlError is a Conjur URL that checkConjurURL refuses. Its text completes "the Conjur URL
// (SETTING) ..." and never repeats the URL, which may hold a password.
type urlError struct {
	msg      string
	insecure bool // plain http to another host, rather than a malformed URL
}

func (e *urlError) Error() string { return e.msg }

// checkConjurURL parses a Conjur appliance URL and checks it: http(s), a host, no user
// information, query or fragment, and https unless the host is loopback.
func checkConjurURL(raw string) (*url.URL, *urlError) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, &urlError{msg: "is not a URL"}
	case u.User != nil:
		return nil, &urlError{msg: "holds a user name or password; Conjur logs in with a login and an API key instead"}
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "":
		return nil, &urlError{msg: "is not an https:// URL (e.g. https://conjur.example.com)"}
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, &urlError{msg: "has a query or fragment"}
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, &urlError{insecure: true, msg: "is plain http to another host (" + u.Host + "): " +
			"the API key and the password would cross the network in clear; use https"}
	}
	return u, nil
}

// CheckConjurURL checks a Conjur appliance URL as Secret does before it calls Conjur
// (http or https, a host, no user information, query or fragment; plain http only to a
// loopback host), for core/engine's check of awskeep_conjur_url. Its error completes "the
// Conjur URL ..." and never repeats the URL, which may hold a password.
func CheckConjurURL(raw string) error {
	if _, err := checkConjurURL(raw); err != nil {
		return err
	}
	return nil
}

// certificate returns the PEM that verifies Conjur, if one is configured, and names where
// it came from.
func (s *conjurSource) certificate() ([]byte, string, error) {
	o := s.opts.Conjur
	if o.SSLCertificate != "" {
		return []byte(o.SSLCertificate), "ConjurOptions.SSLCertificate", nil
	}
	if v := s.opts.getenv(EnvConjurSSLCertificate); v != "" && o.CertFile == "" {
		return []byte(v), "$" + EnvConjurSSLCertificate, nil
	}
	path := o.CertFile
	if path == "" {
		path = s.opts.getenv(EnvConjurCertFile)
	}
	if path == "" {
		return nil, "", nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, "", s.errorf(ErrNotConfigured, err, "read the Conjur certificate file (%s)", o.from(EnvConjurCertFile))
	}
	return pem, "the Conjur certificate file " + path, nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errRedirect stops the client at a redirect.
type errRedirect struct{ to *url.URL }

func (e *errRedirect) Error() string { return "redirect to " + e.to.Scheme + "://" + e.to.Host }

// client returns the HTTP client for one exchange and a function that releases what it
// set up. It never follows redirects: a 307 or 308 to an authenticate request would resend
// the API key to wherever Location points.
func (s *conjurSource) client(cfg conjurConfig) (*http.Client, func(), error) {
	var c http.Client
	if s.opts.HTTPClient != nil {
		c = *s.opts.HTTPClient
	} else {
		c.Timeout = defaultConjurTimeout
	}
	done := func() {}
	if cfg.roots != nil || s.opts.HTTPClient == nil {
		var base *http.Transport
		switch t := c.Transport.(type) {
		case nil:
			base = http.DefaultTransport.(*http.Transport)
		case *http.Transport:
			base = t
		}
		if base == nil {
			// A custom RoundTripper (only possible with Options.HTTPClient set).
			return nil, nil, s.errorf(ErrNotConfigured, nil, "cannot add the Conjur certificate to Options.HTTPClient's transport %T", c.Transport)
		}
		tr := base.Clone()
		if cfg.roots != nil {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			tr.TLSClientConfig.RootCAs = cfg.roots
		}
		c.Transport = tr
		done = tr.CloseIdleConnections
	}
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error { return &errRedirect{to: req.URL} }
	return &c, done, nil
}

// authenticate exchanges the API key for an access token (Conjur API "Authenticate").
func (s *conjurSource) authenticate(ctx context.Context, client *http.Client, cfg conjurConfig) ([]byte, error) {
	u := cfg.base + "/authn/" + url.PathEscape(cfg.account) + "/" + url.PathEscape(cfg.login) + "/authenticate"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(cfg.apiKey))
	if err != nil {
		return nil, s.errorf(ErrNotConfigured, nil, "cannot build the Conjur authenticate request for %s", cfg.host)
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return nil, s.transportError("log in to", cfg, err)
	}
	defer closeBody(resp)
	status := &StatusError{Op: "authenticate", StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		token, err := readLimited(resp.Body, maxToken)
		switch {
		case err != nil:
			return nil, s.errorf(ErrUnavailable, nil, "read the access token from Conjur at %s", cfg.host)
		case len(token) == 0 || len(token) > maxToken:
			clear(token)
			return nil, s.errorf(ErrUnavailable, nil, "Conjur at %s answered the login with no usable access token", cfg.host)
		}
		return token, nil
	case code == http.StatusUnauthorized:
		o := s.opts.Conjur
		return nil, s.errorf(ErrUnauthorized, status, "Conjur refused the login %q (account %q at %s): check the login (%s) and the API key (%s)",
			cfg.login, cfg.account, cfg.host, o.from(EnvConjurAuthnLogin), o.from(EnvConjurAuthnAPIKey))
	case code == http.StatusForbidden:
		return nil, s.errorf(ErrForbidden, status, "Conjur will not let %q log in with an API key from here (its restricted_to addresses, or the authn authenticator is not enabled)", cfg.login)
	case code == http.StatusNotFound:
		o := s.opts.Conjur
		return nil, s.errorf(ErrNotConfigured, status, "%s has no Conjur authn service for account %q: check the URL (%s) and the account (%s)",
			cfg.base, cfg.account, o.from(EnvConjurApplianceURL), o.from(EnvConjurAccount))
	case code >= 500:
		return nil, s.errorf(ErrUnavailable, status, "Conjur at %s failed to log in %q", cfg.host, cfg.login)
	default:
		return nil, s.errorf(nil, status, "Conjur at %s did not log in %q", cfg.host, cfg.login)
	}
}

// retrieve reads the variable with the access token (Conjur API "Retrieve a secret").
func (s *conjurSource) retrieve(ctx context.Context, client *http.Client, cfg conjurConfig, token []byte) (string, error) {
	u := cfg.base + "/secrets/" + url.PathEscape(cfg.account) + "/variable/" + url.PathEscape(s.variable)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", s.errorf(ErrNotConfigured, nil, "cannot build the Conjur request for variable %q", s.variable)
	}
	req.Header.Set("Authorization", `Token token="`+base64.StdEncoding.EncodeToString(token)+`"`)
	resp, err := client.Do(req)
	if err != nil {
		return "", s.transportError("read the variable from", cfg, err)
	}
	defer closeBody(resp)
	status := &StatusError{Op: "retrieve secret", StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		value, err := readLimited(resp.Body, maxSecret)
		defer clear(value)
		switch {
		case err != nil:
			return "", s.errorf(ErrUnavailable, nil, "read variable %q from Conjur at %s", s.variable, cfg.host)
		case len(value) > maxSecret:
			return "", s.errorf(nil, nil, "Conjur variable %q holds more than %d KiB: is it a password?", s.variable, maxSecret>>10)
		case len(value) == 0:
			return "", s.errorf(ErrEmpty, nil, "Conjur variable %q is empty", s.variable)
		}
		return string(value), nil
	case code == http.StatusUnauthorized:
		return "", s.errorf(ErrUnauthorized, status, "Conjur did not accept the access token it had just issued to %q (are the clocks of Conjur's nodes in step?)", cfg.login)
	case code == http.StatusForbidden:
		return "", s.errorf(ErrForbidden, status, "login %q may not read Conjur variable %q: it needs the execute privilege on it", cfg.login, s.variable)
	case code == http.StatusNotFound:
		return "", s.errorf(ErrNotFound, status, "Conjur has no variable %q, or it has no value yet (or login %q may not read it)", s.variable, cfg.login)
	case code >= 500:
		return "", s.errorf(ErrUnavailable, status, "Conjur at %s failed to read variable %q", cfg.host, s.variable)
	default:
		return "", s.errorf(nil, status, "Conjur at %s did not return variable %q", cfg.host, s.variable)
	}
}

// transportError explains a request that got no HTTP answer. The *url.Error around err
// is dropped: its text repeats the whole URL, which adds nothing to the host.
func (s *conjurSource) transportError(what string, cfg conjurConfig, err error) error {
	var redirect *errRedirect
	if errors.As(err, &redirect) {
		return s.errorf(ErrInsecure, nil, "Conjur at %s answered with a %s; awskeep does not follow redirects (they would carry the API key elsewhere): set the Conjur URL (%s) to the URL Conjur answers at",
			cfg.host, redirect.Error(), s.opts.Conjur.from(EnvConjurApplianceURL))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return s.errorf(ErrInsecure, err, "cannot verify the TLS certificate of Conjur at %s: set %s to the certificate of the CA that signed it", cfg.host, setHint(EnvConjurCertFile))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return s.errorf(nil, err, "%s Conjur at %s", what, cfg.host)
	}
	return s.errorf(ErrUnavailable, err, "cannot reach Conjur at %s", cfg.host)
}

// readLimited reads at most max+1 bytes, so a caller can tell "exactly max" from "more".
func readLimited(r io.Reader, max int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(io.LimitReader(r, max+1))
	return b.Bytes(), err
}

// closeBody drains a little of the body, so the connection can be reused, and closes it.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
}
