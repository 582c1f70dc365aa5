package samlidp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/spnego"
)

// Login says who logs in where.
type Login struct {
	// URL is the IdP's AWS app URL (awskeep_saml_url): where a browser would go to sign
	// in to AWS. Okta's API is called at its origin.
	URL string
	// Username is the account's name at the IdP (awskeep_saml_username). Required by okta
	// and form; kerberos takes the principal from the ticket cache.
	Username string
	// Password returns the password. It is called only when the provider needs it (never
	// for kerberos, and for form only once the login form is on screen), at most once per
	// login; a refused password is never retried.
	Password func(ctx context.Context) (string, error)
	// MFACode returns a TOTP code when the IdP asks for one (a prompt or
	// awskeep_mfa_process). It is called at most once per login. May be nil: a login that
	// needs a code then fails with ErrMFARequired.
	MFACode func(ctx context.Context) (string, error)
	// HTTPClient is the base client (CA bundle, proxy, timeout); nil means a client with
	// http.DefaultTransport. It is copied: each login uses its own cookie jar and redirect
	// policy, and the caller's client is not changed.
	HTTPClient *http.Client
	// Kerberos configures SPNEGO for the kerberos provider. Its HTTPClient, when nil, is the
	// login's own client (HTTPClient with the cookie jar and redirect policy).
	Kerberos spnego.Options
}

// Provider logs in at one kind of IdP.
type Provider interface {
	// Login signs l.Username in at l.URL and returns the base64 SAMLResponse exactly as
	// the IdP would have posted it to AWS (whitespace removed). Every request is bounded
	// by ctx.
	Login(ctx context.Context, l Login) (samlResponse string, err error)
}

// Provider names, as awskeep_saml_provider takes them.
const (
	NameOkta     = "okta"
	NameForm     = "form"
	NameKerberos = "kerberos"
)

// New returns the provider called name: "okta", "form" or "kerberos" (case-insensitive).
func New(name string) (Provider, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case NameOkta:
		return Okta{}, nil
	case NameForm:
		return Form{}, nil
	case NameKerberos:
		return Kerberos{}, nil
	}
	return nil, creds.Wrap(creds.ClassConfig, "", fmt.Errorf("%w %q: awskeep_saml_provider must be okta, form or kerberos", ErrUnknownProvider, name))
}

// parseLoginURL checks l.URL: absolute, http or https, https unless loopback.
func parseLoginURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: awskeep_saml_url is not set", ErrInvalidLogin)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		// url.Parse's error quotes the whole URL, query included: say it in our words.
		return nil, fmt.Errorf("%w: awskeep_saml_url %q is not a valid absolute https URL", ErrInvalidLogin, redactURLString(raw))
	}
	u.Fragment, u.RawFragment = "", ""
	if !secureURL(u) {
		return nil, &InsecureURLError{URL: redactURL(u), Via: viaSetting}
	}
	return u, nil
}

// checkCredentials checks what okta and form need besides the URL.
func checkCredentials(l Login) error {
	if strings.TrimSpace(l.Username) == "" {
		return fmt.Errorf("%w: awskeep_saml_username is not set", ErrInvalidLogin)
	}
	if l.Password == nil {
		return fmt.Errorf("%w: no password source for %s", ErrInvalidLogin, l.Username)
	}
	return nil
}

// classify gives err its class at the package's edge: callback failures are prompts
// (unless classified already), the rest the IdP's.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *callbackError
	if errors.As(err, &ce) {
		return creds.Wrap(creds.ClassPrompt, "", err)
	}
	var ie *InsecureURLError
	if errors.Is(err, ErrInvalidLogin) || (errors.As(err, &ie) && ie.Via == viaSetting) {
		return creds.Wrap(creds.ClassConfig, "", err)
	}
	return creds.Wrap(creds.ClassIdP, "", err)
}

// callbackError is a failure of Login.Password or Login.MFACode: no terminal, a failing
// awskeep_mfa_process, an empty answer.
type callbackError struct {
	what string // "the password for alice"
	err  error
}

func (e *callbackError) Error() string { return "cannot get " + e.what + ": " + e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

// password calls l.Password; an empty answer is an error (an IdP would count it as a
// failed attempt).
func password(ctx context.Context, l Login) (string, error) {
	what := "the IdP password for " + l.Username
	pw, err := l.Password(ctx)
	if err != nil {
		return "", &callbackError{what: what, err: err}
	}
	if pw == "" {
		return "", &callbackError{what: what, err: errors.New("the answer is empty")}
	}
	return pw, nil
}

// mfaCode calls l.MFACode; it is not called when nil. Spaces inside the code are
// dropped (authenticator apps show "123 456").
func mfaCode(ctx context.Context, l Login) (string, error) {
	what := "the MFA code for " + l.Username
	code, err := l.MFACode(ctx)
	if err != nil {
		return "", &callbackError{what: what, err: err}
	}
	code = strings.Join(strings.Fields(code), "")
	if code == "" {
		return "", &callbackError{what: what, err: errors.New("the answer is empty")}
	}
	return code, nil
}
