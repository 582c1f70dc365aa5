package samlidp

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/awskeep/awskeep/core/spnego"
)

// Kerberos logs in with the user's Kerberos ticket: HTTP Negotiate (SPNEGO, RFC 4559)
// through package spnego, as a browser does with integrated Windows authentication (ADFS
// WIA, Shibboleth's SPNEGO login flow). No password is asked.
//
// Failures are KerberosErrors that wrap package spnego's error: no usable ticket (run
// kinit), a KDC that cannot be reached or refuses a ticket for HTTP/<host>, a ticket the
// IdP refused (a 401 to the Negotiate token), an IdP that does not offer Negotiate, or one
// that shows its password form instead (ADFS offers WIA only to the User-Agents in its
// WIASupportedUserAgents list).
type Kerberos struct{}

// Login implements Provider.
func (Kerberos) Login(ctx context.Context, l Login) (string, error) {
	v, err := kerberosLogin(ctx, l)
	return v, classify(err)
}

func kerberosLogin(ctx context.Context, l Login) (string, error) {
	u, err := parseLoginURL(l.URL)
	if err != nil {
		return "", err
	}
	s := newSession(l.HTTPClient, "the IdP at "+origin(u))
	opts := l.Kerberos
	if opts.HTTPClient == nil {
		opts.HTTPClient = s.client
	}
	c, err := spnego.Client(opts)
	if err != nil {
		return "", &KerberosError{URL: redactURL(u), Reason: kerberosReason(err), Err: err}
	}
	// Whatever client spnego returns, the login keeps its cookie jar and redirect policy.
	cc := *c
	if cc.Jar == nil {
		cc.Jar = s.client.Jar
	}
	cc.CheckRedirect = checkRedirect
	s.client = &cc
	s.explain = func(err error) error {
		if !isSpnegoError(err) {
			return nil
		}
		return &KerberosError{URL: redactURL(u), Reason: kerberosReason(err), Err: err}
	}

	p, err := s.do(ctx, request{method: "GET", url: u, accept: acceptHTML, via: viaSetting})
	if err != nil {
		return "", err
	}
	return s.follow(ctx, l, p, walkMode{
		loginForm: func(p *response) error {
			return &KerberosError{URL: redactURL(p.url), Reason: "the IdP shows its password form instead of accepting Kerberos " +
				"(use awskeep_saml_provider = form, or have the IdP offer Windows authentication to the User-Agent \"" + userAgent + "\")"}
		},
		unauthorized: func(p *response) error {
			return &KerberosError{URL: redactURL(p.url), Reason: unauthorizedReason(p.header)}
		},
	})
}

func isSpnegoError(err error) bool {
	for _, e := range []error{spnego.ErrConfig, spnego.ErrNoTicket, spnego.ErrTicketExpired, spnego.ErrUnsupportedCCache,
		spnego.ErrKeytab, spnego.ErrKDCUnreachable, spnego.ErrKDCRefused, spnego.ErrRejected, spnego.ErrBodyNotReplayable} {
		if errors.Is(err, e) {
			return true
		}
	}
	var kdc *spnego.KDCError
	return errors.As(err, &kdc)
}

// kerberosReason says in a few words which step failed; spnego's error (wrapped) says why
// and what to do.
func kerberosReason(err error) string {
	switch {
	case errors.Is(err, spnego.ErrRejected):
		return "the IdP refused the Kerberos ticket"
	case errors.Is(err, spnego.ErrNoTicket), errors.Is(err, spnego.ErrTicketExpired), errors.Is(err, spnego.ErrUnsupportedCCache):
		return "no usable Kerberos ticket"
	case errors.Is(err, spnego.ErrKDCUnreachable), errors.Is(err, spnego.ErrKDCRefused):
		return "no ticket for the IdP from the KDC"
	case errors.Is(err, spnego.ErrConfig), errors.Is(err, spnego.ErrKeytab):
		return "cannot use Kerberos"
	}
	return "Negotiate failed"
}

// unauthorizedReason explains a 401 that package spnego let through: the IdP offered no
// Negotiate (a 401 to a Negotiate token is spnego's ErrRejected).
func unauthorizedReason(h http.Header) string {
	var schemes []string
	for _, v := range h.Values("WWW-Authenticate") {
		for _, challenge := range strings.Split(v, ",") {
			f := strings.Fields(challenge)
			if len(f) == 0 || strings.Contains(f[0], "=") {
				continue // a parameter of the previous challenge (realm="x")
			}
			schemes = append(schemes, capText(f[0], 20))
		}
	}
	if len(schemes) == 0 {
		return "the IdP answered HTTP 401 without offering Negotiate: it does not take Kerberos here"
	}
	return "the IdP answered HTTP 401 offering " + strings.Join(schemes, ", ") + ": it does not take Kerberos (Negotiate) here"
}
