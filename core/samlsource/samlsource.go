// Package samlsource is the SAML source of the credential engine: it logs the user in at
// the identity provider (Okta, a form-based IdP, or Kerberos with SPNEGO), takes the
// SAMLResponse from the page the IdP returns, picks the role and exchanges the assertion
// for the role's temporary credentials with STS AssumeRoleWithSAML, an unsigned call.
//
// The IdP password comes from a secretsource (Conjur, a keyring, a file or the terminal)
// and is asked for only when the IdP needs it; a refused password is never retried. The
// assertion is a bearer credential until it expires: it lives in memory for one Retrieve
// and is never written to disk, logs or errors.
package samlsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samlidp"
	"github.com/awskeep/awskeep/core/secretsource"
	"github.com/awskeep/awskeep/core/spnego"
	"github.com/awskeep/awskeep/core/sts"
)

// RoleSetting names what answers the role choice when there is no terminal.
const RoleSetting = "awskeep_saml_role_arn"

// Provider is the SAML source. Every Retrieve logs in; wrap it in the cache.
type Provider struct {
	// URL is the IdP's AWS app URL; ProviderName is okta, form or kerberos.
	URL, ProviderName string
	// Username logs in (okta, form).
	Username string
	// Password gives the IdP password (okta, form); nil for kerberos.
	Password secretsource.Source
	// MFACode answers an IdP's one-time-code challenge; nil fails such a login.
	MFACode func(ctx context.Context) (string, error)
	// RoleARN picks the role; empty takes the only role or asks Prompter to choose.
	RoleARN string
	// RoleOrigin names where RoleARN was set, for the error when the assertion does not
	// offer it, e.g. "/home/u/.aws/config:9 (awskeep_saml_role_arn)"; default RoleSetting.
	RoleOrigin string
	// Duration asked of STS, capped by the assertion's SessionDuration; zero leaves STS's
	// default.
	Duration time.Duration
	// Prompter chooses among several roles; default the controlling terminal.
	Prompter prompt.Prompter
	// HTTPClient reaches the IdP (CA bundle, proxy); default http.DefaultClient's transport.
	HTTPClient *http.Client
	// Kerberos says where the ticket cache or keytab is (kerberos).
	Kerberos spnego.Options
	// STS configures the STS client (region, endpoint, HTTP client); run only when STS is
	// about to be called. Its error is a configuration error.
	STS func(*sts.Options) error
	// Now is the clock the assertion's validity is checked against; default time.Now.
	Now func() time.Time
	// Logger receives debug timings (never the assertion); nil logs nothing.
	Logger *slog.Logger
	// Picked, when set, learns the role assumed, after STS answered.
	Picked func(roleARN string)
}

var _ creds.Provider = (*Provider)(nil)

// Retrieve logs in and returns the role's temporary credentials.
func (p *Provider) Retrieve(ctx context.Context) (creds.Credentials, error) {
	now, log := p.Now, p.Logger
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := now()
	idp, err := samlidp.New(p.ProviderName)
	if err != nil {
		return creds.Credentials{}, creds.Wrap(creds.ClassConfig, "", err)
	}
	login := samlidp.Login{URL: p.URL, Username: p.Username, MFACode: p.MFACode, HTTPClient: p.HTTPClient, Kerberos: p.Kerberos}
	if p.Password != nil {
		login.Password = p.Password.Secret
	}
	response, err := idp.Login(ctx, login)
	if err != nil {
		return creds.Credentials{}, classifyLogin(p.ProviderName, err)
	}
	log.Debug("IdP login done", "provider", p.ProviderName, "elapsed", now().Sub(start))

	assertion, err := samlassert.Parse(response, now())
	if err != nil {
		// samlassert's errors start "SAML response: "; the step is the login's.
		return creds.Credentials{}, creds.Wrap(creds.ClassIdP, loginOp(p.ProviderName), err)
	}
	role, err := p.pickRole(ctx, assertion)
	if err != nil {
		return creds.Credentials{}, err
	}
	duration := p.Duration
	if max := assertion.SessionDuration; max > 0 && (duration == 0 || duration > max) {
		duration = max // STS refuses more than the IdP allows
	}
	var stsOpts sts.Options
	if p.STS != nil {
		if err := p.STS(&stsOpts); err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassConfig, "", err)
		}
	}
	client := sts.NewUnsigned(func(o *sts.Options) {
		o.Region, o.EndpointURL, o.HTTPClient, o.Now = stsOpts.Region, stsOpts.EndpointURL, stsOpts.HTTPClient, now
	})
	out, err := client.AssumeRoleWithSAML(ctx, sts.AssumeRoleWithSAMLInput{
		RoleARN: role.RoleARN, PrincipalARN: role.PrincipalARN, SAMLAssertion: assertion.Encoded(), Duration: duration,
	})
	log.Debug("STS answered", "operation", "AssumeRoleWithSAML "+role.RoleARN, "elapsed", now().Sub(start))
	if err == nil && p.Picked != nil {
		p.Picked(role.RoleARN)
	}
	return out, err
}

// pickRole takes the configured role, the only one, or the user's choice.
func (p *Provider) pickRole(ctx context.Context, a *samlassert.Assertion) (samlassert.Role, error) {
	role, err := a.PickRole(p.RoleARN)
	if err == nil {
		return role, nil
	}
	if !errors.Is(err, samlassert.ErrChooseRole) {
		// The role configured is not offered: the error lists those that are, and the
		// prefix names the setting to change.
		origin := p.RoleOrigin
		if origin == "" {
			origin = RoleSetting
		}
		return samlassert.Role{}, creds.Wrap(creds.ClassConfig, origin, err)
	}
	prompter := p.Prompter
	if prompter == nil {
		prompter = prompt.TTY{}
	}
	options := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		options[i] = r.RoleARN
	}
	question := fmt.Sprintf("The assertion from %s offers %d roles", p.ProviderName, len(a.Roles))
	if err := prompt.Required(prompt.CanAsk(prompter), "a choice of role", RoleSetting); err != nil {
		return samlassert.Role{}, creds.Wrap(creds.ClassPrompt, "", err)
	}
	i, err := prompter.Choose(ctx, question, options)
	if err != nil {
		return samlassert.Role{}, creds.Wrap(creds.ClassPrompt, "role choice", prompt.Required(err, "a choice of role", RoleSetting))
	}
	return a.Roles[i], nil
}

// loginOp names the step for errors of the login and of the assertion it returned:
// "IdP login (form)". The errors below it name the IdP, the page or the response
// ("SAML response: ..."), not the step.
func loginOp(provider string) string { return "IdP login (" + provider + ")" }

// classifyLogin sorts an IdP login failure: a password source that cannot answer is the
// configuration's (or the prompt's), everything else the IdP's.
func classifyLogin(provider string, err error) error {
	op := loginOp(provider)
	switch {
	case errors.Is(err, prompt.ErrNoTerminal):
		return creds.Wrap(creds.ClassPrompt, "", err)
	case errors.Is(err, secretsource.ErrNotFound), errors.Is(err, secretsource.ErrUnauthorized):
		return creds.Wrap(creds.ClassConfig, op, err)
	}
	return creds.Wrap(creds.ClassIdP, op, err)
}
