package engine

import (
	"fmt"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mfa"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/secretsource"
	"github.com/awskeep/awskeep/core/sts"
)

// Source names.
const (
	SourceDevice = "device"
	SourceSAML   = "saml"
)

// DefaultDuration is the lifetime asked for when neither a flag nor the profile gives one.
const DefaultDuration = time.Hour

// Settings are everything the engine needs, after merging. As input to Resolve (the
// command's flags), an empty field or a zero Duration means "not given".
type Settings struct {
	// Profile is the profile's name, "" when none is used.
	Profile string
	// Source is SourceDevice (the default) or SourceSAML.
	Source string
	// Key is the key URI (awskeep_key, --key).
	Key string
	// AccessKeyID is the long-term access key whose secret the device holds.
	AccessKeyID string
	// RoleARN selects AssumeRole (awskeep_role_arn, --role-arn); empty selects GetSessionToken.
	RoleARN, RoleSessionName, ExternalID string
	// Duration of the temporary credentials.
	Duration time.Duration
	// MFASerial, with MFACode or MFAProcess, or a prompt on the terminal, adds MFA.
	MFASerial, MFACode, MFAProcess string
	// Region and EndpointURL are STS's; CABundle is a PEM file of extra trusted CAs.
	Region, EndpointURL, CABundle string

	// SAML holds the settings of the SAML source (awskeep_saml_*).
	SAML SAMLSettings
	// Conjur says where Conjur is, for awskeep_saml_password_source = conjur:VARIABLE
	// (awskeep_conjur_*).
	Conjur ConjurSettings

	origin map[string]string
}

// SAMLSettings are the awskeep_saml_* settings of a SAML profile.
type SAMLSettings struct {
	// URL is the identity provider's AWS app URL (awskeep_saml_url).
	URL string
	// Provider is okta, form or kerberos (awskeep_saml_provider).
	Provider string
	// Username logs in at the IdP (awskeep_saml_username); kerberos takes the ticket's.
	Username string
	// PasswordSource says where the IdP password comes from
	// (awskeep_saml_password_source): conjur:VARIABLE, keyring:NAME, file:PATH or prompt.
	PasswordSource string
	// RoleARN picks the role among those of the assertion (awskeep_saml_role_arn); empty
	// takes the only one or asks on the terminal.
	RoleARN string
}

// ConjurSettings are the awskeep_conjur_* settings of a SAML profile whose IdP password is
// a Conjur variable. Each one left empty falls back, when Conjur is called, on the CONJUR_*
// variable it stands for (package secretsource); a profile setting wins over its variable.
type ConjurSettings struct {
	// URL is Conjur's appliance URL (awskeep_conjur_url; $CONJUR_APPLIANCE_URL).
	URL string
	// Account is the Conjur account (awskeep_conjur_account; $CONJUR_ACCOUNT).
	Account string
	// Login is the user or host that logs in (awskeep_conjur_login; $CONJUR_AUTHN_LOGIN).
	Login string
	// CertFile is a PEM file of the CA that signed Conjur's certificate, an absolute path
	// (awskeep_conjur_cert_file; $CONJUR_CERT_FILE).
	CertFile string
	// APIKeySource says where the login's API key is: keyring:NAME or file:PATH
	// (awskeep_conjur_api_key_source; $CONJUR_AUTHN_API_KEY holds the key itself). The
	// key is a secret, so the profile never holds it: a keyring item, or a file that only
	// the user may read (refused otherwise, as a file: password source is). conjur: is
	// refused (the key is what logs in to Conjur) and so is prompt (nobody types an API
	// key, and credential_process has no terminal).
	APIKeySource string
}

// fields returns the ConjurSettings fields by the name their setting ends with.
func (c *ConjurSettings) fields() map[string]*string {
	return map[string]*string{"url": &c.URL, "account": &c.Account, "login": &c.Login,
		"cert_file": &c.CertFile, "api_key_source": &c.APIKeySource}
}

// conjurFieldOrder is the order the Conjur settings are checked and named in.
var conjurFieldOrder = []string{"url", "account", "login", "cert_file", "api_key_source"}

// SAMLProviders are the values of awskeep_saml_provider.
var SAMLProviders = []string{"okta", "form", "kerberos"}

// Origin says where a setting's value came from ("--duration", "/home/u/.aws/config:7
// (duration_seconds)", "$AWS_REGION"), for messages; "" when it is a default.
func (s Settings) Origin(field string) string { return s.origin[field] }

// Checks by loops, not package-level regexps: compiling those at start-up costs every
// cache hit.

// validAccessKeyID: 16 to 128 upper-case letters and digits (IAM AccessKey.AccessKeyId).
func validAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// sessionNameChar: what STS accepts in a role session name, [\w+=,.@-].
func sessionNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0
}

// validSessionName: 2 to 64 of sessionNameChar (STS AssumeRole RoleSessionName).
func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !sessionNameChar(s[i]) {
			return false
		}
	}
	return true
}

// Resolve merges flags (highest), the profile p (may be nil) and the environment, fills in
// defaults and checks the result. Errors are creds.ClassConfig and name the flag or the
// profile line to fix.
func Resolve(flags Settings, p *profile.Profile, getenv func(string) string) (Settings, error) {
	s := Settings{origin: map[string]string{}}
	pick := func(field, flag, flagValue string, candidates ...[2]string) string {
		if flagValue != "" {
			s.origin[field] = flag
			return flagValue
		}
		for _, c := range candidates {
			if c[1] != "" {
				s.origin[field] = c[0]
				return c[1]
			}
		}
		return ""
	}
	var pf profile.Profile
	if p != nil {
		pf = *p
		s.Profile = p.Name
	}
	at := func(setting string) string {
		if p == nil {
			return ""
		}
		return p.Where(setting) + " (" + setting + ")"
	}
	env := func(name string) [2]string { return [2]string{"$" + name, getenv(name)} }

	s.Source = pick("source", "", "", [2]string{at("awskeep_source"), pf.Source})
	s.Key = pick("key", "--key", flags.Key, [2]string{at("awskeep_key"), pf.Key})
	s.AccessKeyID = pick("access-key-id", "--access-key-id", flags.AccessKeyID, [2]string{at("awskeep_access_key_id"), pf.AccessKeyID})
	s.RoleARN = pick("role-arn", "--role-arn", flags.RoleARN, [2]string{at("awskeep_role_arn"), pf.RoleARN})
	s.RoleSessionName = pick("role-session-name", "--role-session-name", flags.RoleSessionName, [2]string{at("role_session_name"), pf.RoleSessionName})
	s.ExternalID = pick("external-id", "--external-id", flags.ExternalID, [2]string{at("external_id"), pf.ExternalID})
	s.MFASerial = pick("mfa-serial", "--mfa-serial", flags.MFASerial, [2]string{at("mfa_serial"), pf.MFASerial})
	s.MFACode = flags.MFACode
	s.MFAProcess = pick("mfa-process", "", "", [2]string{at("awskeep_mfa_process"), pf.MFAProcess})
	s.Region = pick("region", "--region", flags.Region, [2]string{at("region"), pf.Region},
		env("AWS_REGION"), env("AWS_DEFAULT_REGION"))
	s.EndpointURL = pick("endpoint-url", "--endpoint-url", flags.EndpointURL,
		[2]string{at("services"), pf.STSEndpointURL}, [2]string{at("endpoint_url"), pf.EndpointURL},
		env("AWS_ENDPOINT_URL_STS"), env("AWS_ENDPOINT_URL"))
	s.CABundle = pick("ca-bundle", "--ca-bundle", flags.CABundle, [2]string{at("ca_bundle"), pf.CABundle}, env("AWS_CA_BUNDLE"))
	switch {
	case flags.Duration != 0:
		s.Duration, s.origin["duration"] = flags.Duration, "--duration"
	case pf.Duration != 0:
		s.Duration, s.origin["duration"] = pf.Duration, at("duration_seconds")
	default:
		s.Duration = DefaultDuration
	}
	if s.Source == "" {
		s.Source = SourceDevice
	}
	for field, dst := range map[string]*string{
		"url": &s.SAML.URL, "provider": &s.SAML.Provider, "username": &s.SAML.Username,
		"password_source": &s.SAML.PasswordSource, "role_arn": &s.SAML.RoleARN,
	} {
		*dst = pick("saml-"+field, "", "", [2]string{at("awskeep_saml_" + field), pf.SAML[field]})
	}
	for field, dst := range s.Conjur.fields() {
		*dst = pick("conjur-"+field, "", "", [2]string{at("awskeep_conjur_" + field), pf.Conjur[field]})
	}
	if s.Region == "" {
		s.Region = sts.DefaultRegion
	}
	switch {
	case s.RoleARN == "":
		// A session name only names an AssumeRole session; it must not split the cache.
		s.RoleSessionName = ""
	case s.RoleSessionName == "":
		s.RoleSessionName = defaultSessionName()
	}
	if err := s.check(p); err != nil {
		return Settings{}, creds.Wrap(creds.ClassConfig, "", err)
	}
	if err := s.checkConjur(getenv); err != nil {
		return Settings{}, creds.Wrap(creds.ClassConfig, "", err)
	}
	return s, nil
}

// where names the origin of field for a message: the flag, or the profile line.
func (s Settings) where(field string) string {
	if o := s.origin[field]; o != "" {
		return o
	}
	return "--" + field
}

func (s Settings) check(p *profile.Profile) error {
	inProfile := ""
	if p != nil {
		inProfile = fmt.Sprintf(" in [profile %s] of %s", p.Name, p.File)
	}
	switch {
	case s.Source == SourceSAML:
		return s.checkSAML(inProfile)
	case s.Source != SourceDevice:
		return fmt.Errorf("%s: unknown source %q (want device or saml)", s.where("source"), s.Source)
	case s.Key == "":
		return fmt.Errorf("no key: set awskeep_key%s or pass --key", inProfile)
	case s.AccessKeyID == "":
		return fmt.Errorf("no access key id: set awskeep_access_key_id%s or pass --access-key-id", inProfile)
	case !validAccessKeyID(s.AccessKeyID):
		return fmt.Errorf("%s: not an AWS access key ID (16 to 128 upper-case letters and digits)", s.where("access-key-id"))
	case s.MFACode != "" && s.MFASerial == "":
		return fmt.Errorf("--mfa-code needs an MFA device: set mfa_serial%s or pass --mfa-serial", inProfile)
	case s.MFACode != "" && !mfa.Valid(s.MFACode):
		return fmt.Errorf("--mfa-code: an MFA code is six digits")
	case s.RoleARN == "" && s.ExternalID != "":
		return fmt.Errorf("%s: an external id needs a role (awskeep_role_arn or --role-arn)", s.where("external-id"))
	case s.RoleSessionName != "" && !validSessionName(s.RoleSessionName):
		return fmt.Errorf("%s: a role session name is 2 to 64 of A-Z a-z 0-9 +=,.@_-", s.where("role-session-name"))
	}
	maxDuration := 12 * time.Hour
	if s.RoleARN == "" {
		maxDuration = 36 * time.Hour
	}
	if s.Duration < 15*time.Minute || s.Duration > maxDuration || s.Duration%time.Second != 0 {
		return fmt.Errorf("%s: duration %v is outside 15m to %v (whole seconds)", s.where("duration"), s.Duration, maxDuration)
	}
	return nil
}

// checkSAML checks the settings of a SAML profile. Device settings do not apply to it.
func (s Settings) checkSAML(inProfile string) error {
	need := func(key string) error {
		return fmt.Errorf("awskeep_source = saml needs %s%s", key, inProfile)
	}
	switch {
	case s.SAML.URL == "":
		return need("awskeep_saml_url (the identity provider's AWS app URL)")
	case !strings.HasPrefix(s.SAML.URL, "https://") && !strings.HasPrefix(s.SAML.URL, "http://"):
		return fmt.Errorf("%s: awskeep_saml_url must be an http(s) URL", s.where("saml-url"))
	case s.SAML.Provider == "":
		return need("awskeep_saml_provider (okta, form or kerberos)")
	case !slices.Contains(SAMLProviders, s.SAML.Provider):
		return fmt.Errorf("%s: awskeep_saml_provider %q: want okta, form or kerberos", s.where("saml-provider"), s.SAML.Provider)
	case s.SAML.Provider != "kerberos" && s.SAML.Username == "":
		return need("awskeep_saml_username")
	case s.SAML.Provider != "kerberos" && s.SAML.PasswordSource == "":
		return need("awskeep_saml_password_source (conjur:VARIABLE, keyring:NAME, file:PATH or prompt)")
	case s.SAML.Provider == "kerberos" && s.SAML.PasswordSource != "":
		return fmt.Errorf("%s: kerberos logs in with the ticket from kinit; it takes no password source", s.where("saml-password_source"))
	case s.Key != "" || s.AccessKeyID != "":
		return fmt.Errorf("awskeep_source = saml%s: awskeep_key and awskeep_access_key_id belong to device profiles", inProfile)
	case s.RoleARN != "":
		return fmt.Errorf("%s: a SAML profile names its role with awskeep_saml_role_arn", s.where("role-arn"))
	case s.SAML.RoleARN != "" && !strings.Contains(s.SAML.RoleARN, ":role/"):
		return fmt.Errorf("%s: %q is not a role ARN", s.where("saml-role_arn"), s.SAML.RoleARN)
	case s.Duration < 15*time.Minute || s.Duration > 12*time.Hour || s.Duration%time.Second != 0:
		return fmt.Errorf("%s: duration %v is outside 15m to 12h (whole seconds)", s.where("duration"), s.Duration)
	}
	return nil
}

// checkConjur checks the form of the awskeep_conjur_* settings, naming the one to fix.
// Nothing is read or contacted: a cache hit needs none of them, so a missing file or an
// unreachable Conjur is found when Conjur is called (and by awskeep doctor).
func (s Settings) checkConjur(getenv func(string) string) error {
	c := s.Conjur
	first := ""
	for _, f := range conjurFieldOrder {
		if *c.fields()[f] != "" {
			first = f
			break
		}
	}
	if first == "" {
		return nil
	}
	kind, _, _ := strings.Cut(strings.TrimSpace(s.SAML.PasswordSource), ":")
	if s.Source != SourceSAML || !strings.EqualFold(kind, secretsource.KindConjur) {
		return fmt.Errorf("%s: the awskeep_conjur_* settings apply only to awskeep_saml_password_source = conjur:VARIABLE", s.where("conjur-"+first))
	}
	if c.URL != "" {
		if err := secretsource.CheckConjurURL(c.URL); err != nil {
			return fmt.Errorf("%s: the Conjur URL %v", s.where("conjur-url"), err)
		}
	}
	for _, f := range []string{"account", "login"} {
		if v := *c.fields()[f]; v != "" && strings.ContainsFunc(v, unicode.IsControl) {
			return fmt.Errorf("%s: the Conjur %s holds control characters", s.where("conjur-"+f), f)
		}
	}
	if c.CertFile != "" && !filepath.IsAbs(c.CertFile) {
		return fmt.Errorf("%s: the Conjur certificate file must be an absolute path (it is read from wherever the AWS CLI runs awskeep)", s.where("conjur-cert_file"))
	}
	if c.APIKeySource != "" {
		if _, err := secretsource.ParseConjurAPIKeySource(c.APIKeySource, secretsource.Options{Getenv: getenv}); err != nil {
			return fmt.Errorf("%s: %w", s.where("conjur-api_key_source"), err)
		}
	}
	return nil
}

// defaultSessionName is awskeep-USER, trimmed to what STS accepts.
func defaultSessionName() string {
	name := "awskeep"
	if u, err := user.Current(); err == nil {
		b := []byte(u.Username)
		for i := range b {
			if !sessionNameChar(b[i]) {
				b[i] = '_'
			}
		}
		name += "-" + string(b)
	}
	return name[:min(len(name), 64)]
}
