package engine

import (
	"context"
	"fmt"
	"net/url"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/samlsource"
	"github.com/awskeep/awskeep/core/secretsource"
	"github.com/awskeep/awskeep/core/spnego"
	"github.com/awskeep/awskeep/core/sts"
)

// samlMFASetting names what answers an IdP's one-time-code challenge without a terminal.
const samlMFASetting = "--mfa-code, or awskeep_mfa_process in the profile"

// newSAMLSource builds the SAML source for s. Nothing is contacted and no password is
// read until Retrieve.
func newSAMLSource(s Settings, opts Options) (creds.Provider, error) {
	var password secretsource.Source
	if s.SAML.PasswordSource != "" { // kerberos has none
		var err error
		if password, err = SAMLPasswordSource(s, opts); err != nil {
			return nil, err
		}
	}
	source := &samlsource.Provider{
		URL: s.SAML.URL, ProviderName: s.SAML.Provider, Username: s.SAML.Username,
		Password: password, MFACode: samlMFACode(s, opts), RoleARN: s.SAML.RoleARN, RoleOrigin: s.Origin("saml-role_arn"),
		Duration: s.Duration, Prompter: opts.Prompter,
		Kerberos: samlKerberos(s, opts.Getenv),
		STS: func(o *sts.Options) error {
			httpClient, err := sts.HTTPClient(s.CABundle)
			if err != nil {
				return fmt.Errorf("%s: %w", s.where("ca-bundle"), err)
			}
			o.Region, o.EndpointURL, o.HTTPClient = s.Region, s.EndpointURL, httpClient
			return nil
		},
		Now: opts.Now, Logger: opts.Logger, Picked: opts.SAMLRole,
	}
	// The CA bundle is loaded only when the IdP is about to be called: a cache hit must
	// not pay for parsing it.
	return creds.ProviderFunc(func(ctx context.Context) (creds.Credentials, error) {
		httpClient, err := sts.HTTPClient(s.CABundle)
		if err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassConfig, s.where("ca-bundle"), err)
		}
		p := *source
		p.HTTPClient = httpClient
		p.Kerberos.HTTPClient = httpClient
		return p.Retrieve(ctx)
	}), nil
}

// SAMLPasswordSource is the IdP password source of a SAML profile, as the SAML source reads
// it (awskeep_saml_password_source, with the awskeep_conjur_* settings for conjur:).
// Nothing is read or contacted; awskeep doctor passes it to secretsource.Check. Errors are
// creds.ClassConfig and name the setting; a profile without a password source (kerberos)
// is one.
func SAMLPasswordSource(s Settings, opts Options) (secretsource.Source, error) {
	if s.SAML.PasswordSource == "" {
		return nil, creds.Wrap(creds.ClassConfig, "", fmt.Errorf("no awskeep_saml_password_source%s", s.inProfile()))
	}
	conjur, err := conjurOptions(s, opts)
	if err != nil {
		return nil, err
	}
	password, err := secretsource.Parse(s.SAML.PasswordSource, secretsource.Options{
		Getenv:   opts.Getenv,
		Prompter: opts.Prompter,
		Question: fmt.Sprintf("%s password for %s at %s", s.SAML.Provider, s.SAML.Username, hostOf(s.SAML.URL)),
		Setting:  "awskeep_saml_password_source" + s.inProfile(),
		Profile:  s.Profile,
		Conjur:   conjur,
	})
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, s.where("saml-password_source"), err)
	}
	return password, nil
}

// conjurOptions are the awskeep_conjur_* settings as package secretsource takes them, with
// their profile lines for its messages. The API key source is parsed here and read only
// when Conjur is called.
func conjurOptions(s Settings, opts Options) (secretsource.ConjurOptions, error) {
	c := secretsource.ConjurOptions{
		ApplianceURL: s.Conjur.URL, Account: s.Conjur.Account, Login: s.Conjur.Login, CertFile: s.Conjur.CertFile,
		Origins: map[string]string{
			secretsource.EnvConjurApplianceURL: s.Origin("conjur-url"),
			secretsource.EnvConjurAccount:      s.Origin("conjur-account"),
			secretsource.EnvConjurAuthnLogin:   s.Origin("conjur-login"),
			secretsource.EnvConjurCertFile:     s.Origin("conjur-cert_file"),
			secretsource.EnvConjurAuthnAPIKey:  s.Origin("conjur-api_key_source"),
		},
	}
	if s.Conjur.APIKeySource != "" {
		key, err := secretsource.ParseConjurAPIKeySource(s.Conjur.APIKeySource, secretsource.Options{
			Getenv: opts.Getenv, Prompter: opts.Prompter, Profile: s.Profile,
			Setting: "awskeep_conjur_api_key_source" + s.inProfile(),
		})
		if err != nil {
			return c, creds.Wrap(creds.ClassConfig, s.where("conjur-api_key_source"), err)
		}
		c.APIKeySource = key
	}
	return c, nil
}

// samlCacheKey is the cache entry of a SAML profile: the IdP, the user and the role, and no
// secret. For kerberos the user is the ticket cache's principal, read from the cache file
// (no KDC is asked), so that credentials of one principal are never handed to another
// after kdestroy and a new kinit; without a ticket it is empty, and the login that follows
// fails before anything is stored.
func samlCacheKey(s Settings, getenv func(string) string) cache.Key {
	user := s.SAML.Username
	if s.SAML.Provider == "kerberos" {
		user, _ = spnego.Principal(samlKerberos(s, getenv))
	}
	return cache.Key{
		KeyURI: "saml+" + s.SAML.Provider + ":" + s.SAML.URL, AccessKeyID: user,
		RoleARN: s.SAML.RoleARN, Duration: s.Duration, Region: s.Region, Endpoint: s.EndpointURL,
	}
}

// samlKerberos are the SPNEGO options of a kerberos profile: the ticket cache kinit wrote
// ($KRB5CCNAME, krb5.conf), or, when $KRB5_CLIENT_KTNAME names a client keytab (a service
// account), a login from that keytab as awskeep_saml_username (default: the keytab's only
// principal). No password is involved either way.
func samlKerberos(s Settings, getenv func(string) string) spnego.Options {
	return spnego.Options{Getenv: getenv, Principal: s.SAML.Username}
}

// samlMFACode answers an IdP's one-time-code challenge: --mfa-code, awskeep_mfa_process,
// or a prompt on the terminal.
func samlMFACode(s Settings, opts Options) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		question := "verification code for " + s.SAML.Username + " at " + hostOf(s.SAML.URL)
		return oneTimeCode(ctx, s, opts, question, samlMFASetting, "a verification code is six digits")
	}
}

// inProfile is " in [profile P] of FILE" for messages, or "".
func (s Settings) inProfile() string {
	if s.Profile == "" {
		return ""
	}
	return " in [profile " + s.Profile + "]"
}

// hostOf is the host of an IdP URL, for prompts.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}
