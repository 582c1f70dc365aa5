package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/secretsource"
	"github.com/awskeep/awskeep/core/spnego"
)

// The checks of a SAML profile (awskeep_source = saml) take the place of plugin and device:
// they check what a login needs without logging in. No IdP password, Conjur API key or
// token is printed, and the IdP never sees a password or a Kerberos ticket.

// IdPProbeTimeout bounds the idp check, or Input.Timeout when that is shorter: an IdP that
// does not answer a HEAD within it would not let a login through either.
const IdPProbeTimeout = 10 * time.Second

// samlSummary describes the settings of a SAML profile in one line, without secrets.
func samlSummary(s engine.Settings) string {
	who := "as " + s.SAML.Username
	if s.SAML.Provider == "kerberos" {
		who = "as the principal of the Kerberos ticket"
	}
	parts := []string{"SAML " + s.SAML.Provider + " at " + shownURL(s.SAML.URL) + " " + who}
	if s.SAML.PasswordSource != "" {
		parts = append(parts, "password from "+s.SAML.PasswordSource)
	}
	if s.SAML.RoleARN != "" {
		parts = append(parts, "role "+s.SAML.RoleARN)
	} else {
		parts = append(parts, "role: the assertion's only one, or a choice on the terminal")
	}
	parts = append(parts, "duration "+s.Duration.String()+" (at most the assertion's SessionDuration)", "region "+s.Region)
	if s.EndpointURL != "" {
		parts = append(parts, "endpoint "+redactURL(s.EndpointURL))
	}
	if s.CABundle != "" {
		parts = append(parts, "CA bundle "+s.CABundle)
	}
	return strings.Join(parts, ", ")
}

// shownURL is a URL without user information, query and fragment: an IdP URL is shown as
// far as it names where awskeep goes.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return u.String()
}

// samlOK reports whether the settings are those of a SAML profile, for the checks that
// need them.
func (s *state) samlOK() bool { return s.settingsOK && s.settings.Source == engine.SourceSAML }

// checkIdP checks that the IdP's host resolves and that it answers a HEAD of the AWS app
// URL (any status counts; redirects are not followed), through the proxy and with the CA
// bundle a login would use. It does not log in.
func (s *state) checkIdP(ctx context.Context) Result {
	if !s.samlOK() {
		return skip("needs the settings")
	}
	setting := origin(s.settings, "saml-url", "awskeep_saml_url")
	u, err := url.Parse(s.settings.SAML.URL)
	if err != nil || u.Host == "" {
		return fail(fmt.Sprintf("%s: not an absolute URL", setting), "correct awskeep_saml_url (the IdP's AWS app URL)")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	where := u.Scheme + "://" + u.Host
	timeout := min(s.in.Timeout, IdPProbeTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client := s.in.HTTPClient
	if client == nil {
		if client, err = HTTPClient(s.settings.CABundle); err != nil {
			return fail(err.Error(), "point ca_bundle (or --ca-bundle, $AWS_CA_BUNDLE) at a PEM file of CA certificates")
		}
		defer client.CloseIdleConnections()
	}
	probe := *client
	probe.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return fail(fmt.Sprintf("%s: %v", setting, err), "correct awskeep_saml_url")
	}

	found := ""
	if proxy := proxyFor(&probe, req); proxy != "" {
		found = "through the proxy " + proxy
	} else if net.ParseIP(u.Hostname()) == nil {
		addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
		if err != nil {
			return fail(fmt.Sprintf("the IdP host %s (%s) does not resolve: %v", u.Hostname(), setting, oneLine(err.Error())),
				"check the host name in awskeep_saml_url, and DNS or the VPN that serves the IdP")
		}
		found = u.Hostname() + " resolves to " + strings.Join(addrs[:min(len(addrs), 3)], ", ")
	}
	resp, err := probe.Do(req)
	if err != nil {
		return idpFailure(where, port, setting, timeout, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	detail := fmt.Sprintf("%s answers HTTP %d to a HEAD of the app URL (no login)", where, resp.StatusCode)
	if found != "" {
		detail = found + "; " + detail
	}
	return ok("%s", detail)
}

// proxyFor names the proxy the client's transport would use for req, or "".
func proxyFor(c *http.Client, req *http.Request) string {
	tr, okTransport := c.Transport.(*http.Transport)
	if c.Transport == nil {
		tr, okTransport = http.DefaultTransport.(*http.Transport)
	}
	if !okTransport || tr.Proxy == nil {
		return ""
	}
	p, err := tr.Proxy(req)
	if err != nil || p == nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// idpFailure explains a HEAD that got no HTTP answer.
func idpFailure(where, port, setting string, timeout time.Duration, err error) Result {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the whole URL
	}
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
	)
	switch {
	case errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname):
		return fail(fmt.Sprintf("the TLS certificate of %s does not verify: %v", where, oneLine(err.Error())),
			"set ca_bundle in the profile (or --ca-bundle, $AWS_CA_BUNDLE) to the CA that signed the IdP's certificate")
	case errors.Is(err, context.DeadlineExceeded):
		return fail(fmt.Sprintf("%s (%s) did not answer within %v", where, setting, timeout),
			"check that the IdP is up and that port "+port+" is reachable from here (network, VPN, firewall, proxy)")
	}
	return fail(fmt.Sprintf("nothing answers at %s (%s): %v", where, setting, oneLine(err.Error())),
		"check the host and port in awskeep_saml_url, and that the IdP is reachable from here (network, VPN, proxy)")
}

// checkPassword checks the IdP password source without showing the password: a file's
// owner and mode, the keyring helper and item, Conjur's settings and a Conjur login, or a
// terminal for the prompt (secretsource.Check).
func (s *state) checkPassword(ctx context.Context) Result {
	switch {
	case !s.samlOK():
		return skip("needs the settings")
	case s.settings.SAML.Provider == "kerberos":
		return skip("kerberos logs in with the ticket from kinit: there is no password")
	}
	src, err := engine.SAMLPasswordSource(s.settings, engine.Options{Getenv: s.in.Getenv, Prompter: s.in.Prompter})
	if err != nil {
		return fail(err.Error(), "correct awskeep_saml_password_source (conjur:VARIABLE, keyring:NAME, file:PATH or prompt)")
	}
	ctx, cancel := context.WithTimeout(ctx, s.in.Timeout)
	defer cancel()
	detail, err := secretsource.Check(ctx, src)
	if err != nil {
		return fail(err.Error(), passwordFix(src.String(), s.settings.Profile, err))
	}
	return ok("%s: %s", src, detail)
}

// passwordFix says what to do about a password source that failed secretsource.Check; the
// detail (the source's error) names the file, item or setting.
func passwordFix(source, profile string, err error) string {
	// The innermost source failed: the file of a Conjur API key, say, not Conjur.
	for e := err; ; {
		var se *secretsource.Error
		if !errors.As(e, &se) {
			break
		}
		if se.Source != "" {
			source = se.Source
		}
		if e = se.Err; e == nil {
			break
		}
	}
	kind, _, _ := strings.Cut(source, ":")
	if profile == "" {
		profile = "PROFILE"
	}
	switch {
	case errors.Is(err, prompt.ErrNoTerminal):
		return "set $" + secretsource.EnvKeyringPassword + ", or run awskeep doctor at a terminal"
	case errors.Is(err, context.DeadlineExceeded):
		return "check that the source answers (Conjur up and reachable, the keyring unlocked); --timeout gives it longer"
	case errors.Is(err, secretsource.ErrInsecure) && kind == secretsource.KindFile:
		return "make the file yours and private (chown, chmod 600), as the message says"
	case errors.Is(err, secretsource.ErrInsecure) && kind == secretsource.KindKeyring:
		return "reinstall awskeep-keyring where only root or you can write it and its directory (make build puts it in bin/)"
	case errors.Is(err, secretsource.ErrInsecure):
		return "set awskeep_conjur_cert_file (or $CONJUR_CERT_FILE) to the CA certificate of Conjur, and an https URL Conjur answers at"
	case errors.Is(err, secretsource.ErrNotConfigured) && kind == secretsource.KindConjur:
		return "set what the message names: the awskeep_conjur_* settings in the profile, or the CONJUR_* variables"
	case errors.Is(err, secretsource.ErrNotFound) && kind == secretsource.KindKeyring:
		return "store it with awskeep saml store-password --profile " + profile
	case errors.Is(err, secretsource.ErrNotFound) && kind == secretsource.KindFile:
		return "write the password as the first line of the file (chmod 600), or correct awskeep_saml_password_source"
	case errors.Is(err, secretsource.ErrUnauthorized) && kind == secretsource.KindConjur:
		return "check the Conjur login (awskeep_conjur_login or $CONJUR_AUTHN_LOGIN) and its API key (awskeep_conjur_api_key_source or $CONJUR_AUTHN_API_KEY)"
	case errors.Is(err, secretsource.ErrUnauthorized):
		return "give the keyring files' password ($" + secretsource.EnvKeyringPassword + " or the terminal) that they were stored with"
	case errors.Is(err, secretsource.ErrUnavailable) && kind == secretsource.KindConjur:
		return "check that Conjur is up and reachable from here (awskeep_conjur_url or $CONJUR_APPLIANCE_URL)"
	case errors.Is(err, secretsource.ErrUnavailable):
		return "install awskeep-keyring next to awskeep or on $PATH, or make a keyring backend available ($" + secretsource.EnvKeyringBackend + ")"
	case errors.Is(err, secretsource.ErrEmpty):
		return "put the password in it (awskeep saml store-password --profile " + profile + " for a keyring item)"
	}
	return "correct the source as the message says, or awskeep_saml_password_source"
}

// checkKerberos checks the ticket cache (an unexpired ticket-granting ticket, and its
// principal) and that the realm's KDC answers: it asks the KDC for a service ticket for
// the IdP's principal, HTTP/<host>, and hands it to a listener of its own on loopback,
// never to the IdP.
func (s *state) checkKerberos(ctx context.Context) Result {
	switch {
	case !s.samlOK():
		return skip("needs the settings")
	case s.settings.SAML.Provider != "kerberos":
		return skip("awskeep_saml_provider is %s: no Kerberos", s.settings.SAML.Provider)
	}
	// As the engine logs in: with $KRB5_CLIENT_KTNAME, from that keytab as
	// awskeep_saml_username; otherwise from the ticket cache.
	opts := spnego.Options{Getenv: s.in.Getenv, Now: s.in.Now, Principal: s.settings.SAML.Username}
	principal, err := spnego.Principal(opts)
	if err != nil {
		return kerberosFailure(err, "")
	}
	// Client reads the cache and checks its ticket-granting ticket; no KDC is asked yet.
	u, _ := url.Parse(s.settings.SAML.URL)
	spn := "HTTP/" + strings.ToLower(u.Hostname())
	opts.SPN = spn
	opts.HTTPClient = &http.Client{Timeout: s.in.Timeout}
	client, err := spnego.Client(opts)
	if err != nil {
		return kerberosFailure(err, spn)
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, s.in.Timeout)
	defer cancel()
	if err := negotiateLocally(ctx, client); err != nil {
		return kerberosFailure(err, spn)
	}
	return ok("the ticket cache holds an unexpired ticket-granting ticket of %s; the KDC of its realm answers and issued a ticket for %s "+
		"(handed to a local listener of doctor's, not to the IdP)", principal, spn)
}

// negotiateLocally sends one request through client to a loopback listener that asks for
// Negotiate and accepts any token: the client gets its service ticket from the KDC, and the
// token ends here.
func negotiateLocally(ctx context.Context, client *http.Client) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.Header.Get("Authorization"), "Negotiate ") {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(l)
	}()
	defer func() {
		_ = srv.Close()
		wg.Wait()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+l.Addr().String()+"/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text is the local listener's URL
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("the Kerberos client sent no ticket (HTTP %d)", resp.StatusCode)
	}
	return nil
}

// kerberosFailure reports a failure of package spnego with its fix.
func kerberosFailure(err error, spn string) Result {
	detail := oneLine(err.Error())
	switch {
	case errors.Is(err, spnego.ErrConfig):
		return fail(detail, "point $KRB5_CONFIG at the realm's krb5.conf, or install one at /etc/krb5.conf")
	case errors.Is(err, spnego.ErrUnsupportedCCache):
		return fail(detail, "kinit into a file cache: kinit -c FILE:/tmp/krb5cc_$(id -u), and set KRB5CCNAME to it")
	case errors.Is(err, spnego.ErrNoTicket), errors.Is(err, spnego.ErrTicketExpired):
		return fail(detail, "run kinit (klist shows the ticket cache and its tickets)")
	case errors.Is(err, spnego.ErrKDCUnreachable):
		return fail(detail, "check that the KDCs krb5.conf lists for the realm are up and reachable from here (network, VPN)")
	case errors.Is(err, spnego.ErrKDCRefused):
		return fail(detail, "ask the realm's administrators whether "+spn+" exists (the IdP's service principal), or run kinit again")
	}
	return fail(detail, "run kinit, and check krb5.conf and the network to the KDC")
}
