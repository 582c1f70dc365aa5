package engine_test

import (
	"errors"
	"os/user"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/profile"
)

// configPath is where the test profiles say they come from.
const configPath = "/home/u/.aws/config"

// pinSecret is a pin-value carried by the key URI of the test profiles; no error may print it.
const pinSecret = "s3cretpin"

// baseProfile is the head of every test profile: the header is line 1, awskeep_key line 2,
// awskeep_access_key_id line 3; the body given to parseProfile starts at line 4.
const baseProfile = "[profile p]\n" +
	"awskeep_key = pkcs11:token=aws;object=prod?pin-value=" + pinSecret + "\n" +
	"awskeep_access_key_id = AKIAIOSFODNN7EXAMPLE\n"

// parseProfile parses profile p from ini text with profile.Parse.
func parseProfile(t *testing.T, text string) *profile.Profile {
	t.Helper()
	p, err := profile.Parse([]byte(text), configPath, "p")
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	return p
}

// envOf returns a getenv reading only m.
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// at is the origin Resolve reports for a setting on line of the test config file.
func at(line, setting string) string { return configPath + ":" + line + " (" + setting + ")" }

// wantSessionName is what Resolve should default the role session name to.
func wantSessionName(t *testing.T) string {
	t.Helper()
	name := "awskeep"
	if u, err := user.Current(); err == nil {
		name += "-" + regexp.MustCompile(`[^\w+=,.@-]`).ReplaceAllString(u.Username, "_")
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// allEnv sets every environment variable Resolve reads, so a case shows that the source it
// expects wins over all those below it.
var allEnv = map[string]string{
	"AWS_REGION":           "env-region",
	"AWS_DEFAULT_REGION":   "env-default-region",
	"AWS_ENDPOINT_URL_STS": "https://env-sts.example",
	"AWS_ENDPOINT_URL":     "https://env-all.example",
	"AWS_CA_BUNDLE":        "/env/ca.pem",
}

// without returns a copy of m without the names.
func without(m map[string]string, names ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

func TestResolvePrecedence(t *testing.T) {
	const services = "services = local\n" + // line 4
		"endpoint_url = https://profile-all.example\n" + // line 5
		"[services local]\n" +
		"sts =\n" +
		"  endpoint_url = https://profile-sts.example\n"
	sessionName := wantSessionName(t)

	tests := []struct {
		name       string
		flags      engine.Settings
		body       string // profile lines after baseProfile; "-" for no profile at all
		env        map[string]string
		field      string // Origin's field name
		get        func(engine.Settings) string
		want       string
		wantOrigin string
	}{
		// region: flag, profile, $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1
		{name: "region from flag", flags: engine.Settings{Region: "flag-region"}, body: "region = profile-region\n", env: allEnv,
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "flag-region", wantOrigin: "--region"},
		{name: "region from profile", body: "region = profile-region\n", env: allEnv,
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "profile-region", wantOrigin: at("4", "region")},
		{name: "region from AWS_REGION", env: allEnv,
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "env-region", wantOrigin: "$AWS_REGION"},
		{name: "region from AWS_DEFAULT_REGION", env: without(allEnv, "AWS_REGION"),
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "env-default-region", wantOrigin: "$AWS_DEFAULT_REGION"},
		{name: "region default", env: without(allEnv, "AWS_REGION", "AWS_DEFAULT_REGION"),
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "us-east-1", wantOrigin: ""},
		{name: "region from environment without a profile", body: "-", flags: engine.Settings{Key: "tpm:handle=0x81010002", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, env: allEnv,
			field: "region", get: func(s engine.Settings) string { return s.Region }, want: "env-region", wantOrigin: "$AWS_REGION"},

		// endpoint: flag, profile services sts, profile endpoint_url, $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL
		{name: "endpoint from flag", flags: engine.Settings{EndpointURL: "https://flag.example"}, body: services, env: allEnv,
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "https://flag.example", wantOrigin: "--endpoint-url"},
		{name: "endpoint from services sts", body: services, env: allEnv,
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "https://profile-sts.example", wantOrigin: at("4", "services")},
		{name: "endpoint from profile endpoint_url", body: "endpoint_url = https://profile-all.example\n", env: allEnv,
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "https://profile-all.example", wantOrigin: at("4", "endpoint_url")},
		{name: "endpoint from AWS_ENDPOINT_URL_STS", env: allEnv,
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "https://env-sts.example", wantOrigin: "$AWS_ENDPOINT_URL_STS"},
		{name: "endpoint from AWS_ENDPOINT_URL", env: without(allEnv, "AWS_ENDPOINT_URL_STS"),
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "https://env-all.example", wantOrigin: "$AWS_ENDPOINT_URL"},
		{name: "endpoint default", env: without(allEnv, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"),
			field: "endpoint-url", get: func(s engine.Settings) string { return s.EndpointURL }, want: "", wantOrigin: ""},

		// ca_bundle: flag, profile, $AWS_CA_BUNDLE
		{name: "ca bundle from flag", flags: engine.Settings{CABundle: "/flag/ca.pem"}, body: "ca_bundle = /profile/ca.pem\n", env: allEnv,
			field: "ca-bundle", get: func(s engine.Settings) string { return s.CABundle }, want: "/flag/ca.pem", wantOrigin: "--ca-bundle"},
		{name: "ca bundle from profile", body: "ca_bundle = /profile/ca.pem\n", env: allEnv,
			field: "ca-bundle", get: func(s engine.Settings) string { return s.CABundle }, want: "/profile/ca.pem", wantOrigin: at("4", "ca_bundle")},
		{name: "ca bundle from AWS_CA_BUNDLE", env: allEnv,
			field: "ca-bundle", get: func(s engine.Settings) string { return s.CABundle }, want: "/env/ca.pem", wantOrigin: "$AWS_CA_BUNDLE"},
		{name: "ca bundle default", env: without(allEnv, "AWS_CA_BUNDLE"),
			field: "ca-bundle", get: func(s engine.Settings) string { return s.CABundle }, want: "", wantOrigin: ""},

		// duration: flag, duration_seconds, 1h
		{name: "duration from flag", flags: engine.Settings{Duration: 2 * time.Hour}, body: "duration_seconds = 5400\n",
			field: "duration", get: func(s engine.Settings) string { return s.Duration.String() }, want: "2h0m0s", wantOrigin: "--duration"},
		{name: "duration from profile", body: "duration_seconds = 5400\n",
			field: "duration", get: func(s engine.Settings) string { return s.Duration.String() }, want: "1h30m0s", wantOrigin: at("4", "duration_seconds")},
		{name: "duration default", field: "duration", get: func(s engine.Settings) string { return s.Duration.String() }, want: "1h0m0s", wantOrigin: ""},
		{name: "duration up to 36h without a role", flags: engine.Settings{Duration: 36 * time.Hour},
			field: "duration", get: func(s engine.Settings) string { return s.Duration.String() }, want: "36h0m0s", wantOrigin: "--duration"},
		{name: "duration of 15m", body: "duration_seconds = 900\n",
			field: "duration", get: func(s engine.Settings) string { return s.Duration.String() }, want: "15m0s", wantOrigin: at("4", "duration_seconds")},

		// role session name: flag, profile, awskeep-USER only with a role
		{name: "session name from flag", flags: engine.Settings{RoleSessionName: "flag-session"}, body: "awskeep_role_arn = arn:aws:iam::123456789012:role/r\nrole_session_name = profile-session\n",
			field: "role-session-name", get: func(s engine.Settings) string { return s.RoleSessionName }, want: "flag-session", wantOrigin: "--role-session-name"},
		{name: "session name from profile", body: "awskeep_role_arn = arn:aws:iam::123456789012:role/r\nrole_session_name = profile-session\n",
			field: "role-session-name", get: func(s engine.Settings) string { return s.RoleSessionName }, want: "profile-session", wantOrigin: at("5", "role_session_name")},
		{name: "session name default with a role", body: "awskeep_role_arn = arn:aws:iam::123456789012:role/r\n",
			field: "role-session-name", get: func(s engine.Settings) string { return s.RoleSessionName }, want: sessionName, wantOrigin: ""},
		{name: "session name default with a role from a flag", flags: engine.Settings{RoleARN: "arn:aws:iam::123456789012:role/r"},
			field: "role-session-name", get: func(s engine.Settings) string { return s.RoleSessionName }, want: sessionName, wantOrigin: ""},
		{name: "no session name without a role",
			field: "role-session-name", get: func(s engine.Settings) string { return s.RoleSessionName }, want: "", wantOrigin: ""},

		// the settings without an environment variable: flag beats profile
		{name: "key from flag", flags: engine.Settings{Key: "tpm:handle=0x81010002"},
			field: "key", get: func(s engine.Settings) string { return s.Key }, want: "tpm:handle=0x81010002", wantOrigin: "--key"},
		{name: "key from profile",
			field: "key", get: func(s engine.Settings) string { return s.Key }, want: "pkcs11:token=aws;object=prod?pin-value=" + pinSecret, wantOrigin: at("2", "awskeep_key")},
		{name: "access key id from flag", flags: engine.Settings{AccessKeyID: "AKIAFLAGFLAGFLAG1234"},
			field: "access-key-id", get: func(s engine.Settings) string { return s.AccessKeyID }, want: "AKIAFLAGFLAGFLAG1234", wantOrigin: "--access-key-id"},
		{name: "access key id from profile",
			field: "access-key-id", get: func(s engine.Settings) string { return s.AccessKeyID }, want: "AKIAIOSFODNN7EXAMPLE", wantOrigin: at("3", "awskeep_access_key_id")},
		{name: "role from flag", flags: engine.Settings{RoleARN: "arn:aws:iam::123456789012:role/flag"}, body: "awskeep_role_arn = arn:aws:iam::123456789012:role/profile\n",
			field: "role-arn", get: func(s engine.Settings) string { return s.RoleARN }, want: "arn:aws:iam::123456789012:role/flag", wantOrigin: "--role-arn"},
		{name: "role from profile", body: "awskeep_role_arn = arn:aws:iam::123456789012:role/profile\n",
			field: "role-arn", get: func(s engine.Settings) string { return s.RoleARN }, want: "arn:aws:iam::123456789012:role/profile", wantOrigin: at("4", "awskeep_role_arn")},
		{name: "external id from flag", flags: engine.Settings{ExternalID: "flag-ext"}, body: "awskeep_role_arn = arn:aws:iam::123456789012:role/r\nexternal_id = profile-ext\n",
			field: "external-id", get: func(s engine.Settings) string { return s.ExternalID }, want: "flag-ext", wantOrigin: "--external-id"},
		{name: "external id from profile", body: "awskeep_role_arn = arn:aws:iam::123456789012:role/r\nexternal_id = profile-ext\n",
			field: "external-id", get: func(s engine.Settings) string { return s.ExternalID }, want: "profile-ext", wantOrigin: at("5", "external_id")},
		{name: "mfa serial from flag", flags: engine.Settings{MFASerial: "arn:aws:iam::123456789012:mfa/flag"}, body: "mfa_serial = arn:aws:iam::123456789012:mfa/profile\n",
			field: "mfa-serial", get: func(s engine.Settings) string { return s.MFASerial }, want: "arn:aws:iam::123456789012:mfa/flag", wantOrigin: "--mfa-serial"},
		{name: "mfa serial from profile", body: "mfa_serial = arn:aws:iam::123456789012:mfa/profile\n",
			field: "mfa-serial", get: func(s engine.Settings) string { return s.MFASerial }, want: "arn:aws:iam::123456789012:mfa/profile", wantOrigin: at("4", "mfa_serial")},
		{name: "mfa code from flag", flags: engine.Settings{MFACode: "123456"}, body: "mfa_serial = arn:aws:iam::123456789012:mfa/profile\n",
			field: "mfa-code", get: func(s engine.Settings) string { return s.MFACode }, want: "123456", wantOrigin: ""},
		{name: "mfa process from profile", body: "awskeep_mfa_process = printf 123456\n",
			field: "mfa-process", get: func(s engine.Settings) string { return s.MFAProcess }, want: "printf 123456", wantOrigin: at("4", "awskeep_mfa_process")},
		{name: "source device by default",
			field: "source", get: func(s engine.Settings) string { return s.Source }, want: engine.SourceDevice, wantOrigin: at("1", "awskeep_source")},
		{name: "source device without a profile", body: "-", flags: engine.Settings{Key: "tpm:handle=0x81010002", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
			field: "source", get: func(s engine.Settings) string { return s.Source }, want: engine.SourceDevice, wantOrigin: ""},
		{name: "profile name", field: "profile", get: func(s engine.Settings) string { return s.Profile }, want: "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *profile.Profile
			if tt.body != "-" {
				p = parseProfile(t, baseProfile+tt.body)
			}
			s, err := engine.Resolve(tt.flags, p, envOf(tt.env))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := tt.get(s); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if got := s.Origin(tt.field); got != tt.wantOrigin {
				t.Errorf("Origin(%q) = %q, want %q", tt.field, got, tt.wantOrigin)
			}
		})
	}
}

// TestResolveFlagsAlone checks that flags alone (no profile, no environment) make complete
// settings with the defaults filled in and nothing else set.
func TestResolveFlagsAlone(t *testing.T) {
	s, err := engine.Resolve(engine.Settings{Key: "tpm:handle=0x81010002", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, nil, envOf(nil))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	for field, got := range map[string]string{
		"Profile": s.Profile, "Source": s.Source, "Key": s.Key, "AccessKeyID": s.AccessKeyID,
		"RoleARN": s.RoleARN, "RoleSessionName": s.RoleSessionName, "ExternalID": s.ExternalID,
		"Duration": s.Duration.String(), "MFASerial": s.MFASerial, "MFACode": s.MFACode,
		"MFAProcess": s.MFAProcess, "Region": s.Region, "EndpointURL": s.EndpointURL, "CABundle": s.CABundle,
	} {
		want := map[string]string{
			"Source": "device", "Key": "tpm:handle=0x81010002", "AccessKeyID": "AKIAIOSFODNN7EXAMPLE",
			"Duration": "1h0m0s", "Region": "us-east-1",
		}[field]
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
}

// samlProfileLines are the settings of a working SAML profile (Okta, password prompt).
const samlProfileLines = "awskeep_source = saml\nawskeep_saml_url = https://example.okta.com/app/amazon_aws/x/sso/saml\n" +
	"awskeep_saml_provider = okta\nawskeep_saml_username = alice\nawskeep_saml_password_source = prompt\n"

func TestResolveSAML(t *testing.T) {
	p := parseProfile(t, "[profile p]\n"+samlProfileLines+"awskeep_saml_role_arn = arn:aws:iam::123456789012:role/dev\nduration_seconds = 7200\n")
	s, err := engine.Resolve(engine.Settings{}, p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := engine.SAMLSettings{URL: "https://example.okta.com/app/amazon_aws/x/sso/saml", Provider: "okta", Username: "alice",
		PasswordSource: "prompt", RoleARN: "arn:aws:iam::123456789012:role/dev"}
	if s.Source != engine.SourceSAML || s.SAML != want || s.Duration != 2*time.Hour {
		t.Fatalf("Resolve = source %q, %+v, %v; want saml %+v 2h", s.Source, s.SAML, s.Duration, want)
	}
	if got := s.Origin("saml-url"); !strings.Contains(got, "awskeep_saml_url") {
		t.Errorf("origin of the URL = %q", got)
	}
}

// conjurProfileLines are the settings of a SAML profile whose password is in Conjur, lines
// 2 to 6; the awskeep_conjur_* settings follow from line 7.
const conjurProfileLines = "awskeep_source = saml\nawskeep_saml_url = https://example.okta.com/app/amazon_aws/x/sso/saml\n" +
	"awskeep_saml_provider = okta\nawskeep_saml_username = alice\nawskeep_saml_password_source = conjur:prod/okta/password\n"

func TestResolveConjur(t *testing.T) {
	p := parseProfile(t, "[profile p]\n"+conjurProfileLines+
		"awskeep_conjur_url = https://conjur.example.com\nawskeep_conjur_account = corp\nawskeep_conjur_login = host/awskeep/laptop\n"+
		"awskeep_conjur_cert_file = /etc/conjur.pem\nawskeep_conjur_api_key_source = keyring:conjur-api-key\n")
	// The environment's CONJUR_* variables are not read here: secretsource falls back on
	// them, for each setting the profile leaves out, when Conjur is called.
	s, err := engine.Resolve(engine.Settings{}, p, envOf(map[string]string{"CONJUR_APPLIANCE_URL": "https://env.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	want := engine.ConjurSettings{URL: "https://conjur.example.com", Account: "corp", Login: "host/awskeep/laptop",
		CertFile: "/etc/conjur.pem", APIKeySource: "keyring:conjur-api-key"}
	if s.Conjur != want {
		t.Fatalf("Resolve: Conjur %+v, want %+v", s.Conjur, want)
	}
	for field, line := range map[string]string{"url": "7", "account": "8", "login": "9", "cert_file": "10", "api_key_source": "11"} {
		if got, w := s.Origin("conjur-"+field), at(line, "awskeep_conjur_"+field); got != w {
			t.Errorf("origin of conjur-%s = %q, want %q", field, got, w)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	const role = "awskeep_role_arn = arn:aws:iam::123456789012:role/r\n"
	tests := []struct {
		name    string
		flags   engine.Settings
		text    string           // whole config file; "" for no profile
		profile *profile.Profile // used instead of text when set
		want    []string         // substrings of the error
		prefix  string           // the error starts with this
	}{
		{name: "duration_seconds too short in the profile", text: baseProfile + "duration_seconds = 300\n",
			prefix: at("4", "duration_seconds") + ": ", want: []string{"5m0s", "outside 15m"}},
		{name: "duration flag too short", flags: engine.Settings{Duration: 5 * time.Minute}, text: baseProfile + "duration_seconds = 3600\n",
			prefix: "--duration: ", want: []string{"5m0s", "outside 15m"}},
		{name: "duration over 12h with a role", flags: engine.Settings{Duration: 13 * time.Hour}, text: baseProfile + role,
			prefix: "--duration: ", want: []string{"13h0m0s", "12h0m0s"}},
		{name: "duration_seconds over 12h with a role", text: baseProfile + role + "duration_seconds = 43201\n",
			prefix: at("5", "duration_seconds") + ": ", want: []string{"12h0m0s"}},
		{name: "duration over 36h without a role", flags: engine.Settings{Duration: 37 * time.Hour}, text: baseProfile,
			prefix: "--duration: ", want: []string{"36h0m0s"}},
		{name: "duration not whole seconds", flags: engine.Settings{Duration: time.Hour + time.Millisecond}, text: baseProfile,
			prefix: "--duration: ", want: []string{"whole seconds"}},
		{name: "missing key in the profile", text: "[profile p]\nawskeep_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
			want: []string{"no key", "awskeep_key", "[profile p]", configPath, "--key"}},
		{name: "missing key without a profile", flags: engine.Settings{AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
			want: []string{"no key", "awskeep_key", "--key"}},
		{name: "missing access key id in the profile", text: "[profile p]\nawskeep_key = tpm:handle=0x81010002\n",
			want: []string{"no access key id", "awskeep_access_key_id", "[profile p]", configPath, "--access-key-id"}},
		{name: "missing access key id without a profile", flags: engine.Settings{Key: "tpm:handle=0x81010002"},
			want: []string{"no access key id", "--access-key-id"}},
		{name: "bad access key id in the profile", text: "[profile p]\nawskeep_key = tpm:handle=0x81010002\nawskeep_access_key_id = akia-not-a-key-id\n",
			prefix: at("3", "awskeep_access_key_id") + ": ", want: []string{"not an AWS access key ID"}},
		{name: "bad access key id flag", flags: engine.Settings{AccessKeyID: "AKIA"}, text: baseProfile,
			prefix: "--access-key-id: ", want: []string{"not an AWS access key ID"}},
		{name: "external id without a role in the profile", text: baseProfile + "external_id = ext\n",
			prefix: at("4", "external_id") + ": ", want: []string{"external id needs a role"}},
		{name: "external id flag without a role", flags: engine.Settings{ExternalID: "ext"}, text: baseProfile,
			prefix: "--external-id: ", want: []string{"external id needs a role"}},
		{name: "mfa code without a serial", flags: engine.Settings{MFACode: "123456"}, text: baseProfile,
			want: []string{"--mfa-code", "mfa_serial", "[profile p]", configPath, "--mfa-serial"}},
		{name: "mfa code not six digits", flags: engine.Settings{MFACode: "12345", MFASerial: "arn:aws:iam::123456789012:mfa/me"}, text: baseProfile,
			prefix: "--mfa-code: ", want: []string{"six digits"}},
		{name: "mfa code with letters", flags: engine.Settings{MFACode: "12345a", MFASerial: "arn:aws:iam::123456789012:mfa/me"}, text: baseProfile,
			prefix: "--mfa-code: ", want: []string{"six digits"}},
		{name: "bad role session name flag", flags: engine.Settings{RoleSessionName: "has space"}, text: baseProfile + role,
			prefix: "--role-session-name: ", want: []string{"role session name"}},
		{name: "bad role session name in the profile", text: baseProfile + role + "role_session_name = x\n",
			prefix: at("5", "role_session_name") + ": ", want: []string{"role session name"}},
		{name: "saml source with a device key", text: baseProfile + samlProfileLines,
			want: []string{"awskeep_key", "device profiles"}},
		{name: "saml without url", text: "[profile p]\nawskeep_source = saml\nawskeep_saml_provider = okta\n",
			want: []string{"awskeep_saml_url", "[profile p]"}},
		{name: "saml unknown provider", text: "[profile p]\nawskeep_source = saml\nawskeep_saml_url = https://idp/app\nawskeep_saml_provider = ldap\n",
			prefix: at("4", "awskeep_saml_provider") + ": ", want: []string{`"ldap"`, "okta, form or kerberos"}},
		{name: "saml okta without password source", text: "[profile p]\nawskeep_source = saml\nawskeep_saml_url = https://idp/app\nawskeep_saml_provider = okta\nawskeep_saml_username = alice\n",
			want: []string{"awskeep_saml_password_source", "conjur:VARIABLE"}},
		{name: "saml kerberos with a password source", text: "[profile p]\nawskeep_source = saml\nawskeep_saml_url = https://idp/app\nawskeep_saml_provider = kerberos\nawskeep_saml_password_source = prompt\n",
			prefix: at("5", "awskeep_saml_password_source") + ": ", want: []string{"kinit"}},
		{name: "saml role that is no role", text: "[profile p]\n" + samlProfileLines + "awskeep_saml_role_arn = arn:aws:iam::1:user/x\n",
			prefix: at("7", "awskeep_saml_role_arn") + ": ", want: []string{"not a role ARN"}},
		{name: "conjur setting in a device profile", text: baseProfile + "awskeep_conjur_account = corp\n",
			prefix: at("4", "awskeep_conjur_account") + ": ", want: []string{"apply only to awskeep_saml_password_source = conjur:VARIABLE"}},
		{name: "conjur setting with another password source", text: "[profile p]\n" + samlProfileLines + "awskeep_conjur_url = https://conjur.example.com\n",
			prefix: at("7", "awskeep_conjur_url") + ": ", want: []string{"apply only to awskeep_saml_password_source = conjur:VARIABLE"}},
		{name: "conjur URL over plain http", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_url = http://conjur.example.com\n",
			prefix: at("7", "awskeep_conjur_url") + ": ", want: []string{"the Conjur URL is plain http to another host (conjur.example.com)", "use https"}},
		{name: "conjur URL that is no URL", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_url = conjur.example.com\n",
			prefix: at("7", "awskeep_conjur_url") + ": ", want: []string{"the Conjur URL is not an https:// URL"}},
		{name: "conjur URL with a password", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_url = https://alice:" + pinSecret + "@conjur.example.com\n",
			prefix: at("7", "awskeep_conjur_url") + ": ", want: []string{"the Conjur URL holds a user name or password"}},
		{name: "conjur certificate file relative", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_cert_file = conjur.pem\n",
			prefix: at("7", "awskeep_conjur_cert_file") + ": ", want: []string{"absolute path"}},
		{name: "conjur API key from conjur", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_api_key_source = conjur:prod/conjur/key\n",
			prefix: at("7", "awskeep_conjur_api_key_source") + ": ", want: []string{"cannot come from Conjur", "want keyring:NAME or file:PATH"}},
		{name: "conjur API key by prompt", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_api_key_source = prompt\n",
			prefix: at("7", "awskeep_conjur_api_key_source") + ": ", want: []string{"not typed at a prompt", "want keyring:NAME or file:PATH"}},
		{name: "conjur API key written in the profile", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_api_key_source = " + pinSecret + "\n",
			prefix: at("7", "awskeep_conjur_api_key_source") + ": ", want: []string{"not one of the accepted forms", "want keyring:NAME or file:PATH"}},
		{name: "conjur API key file relative", text: "[profile p]\n" + conjurProfileLines + "awskeep_conjur_api_key_source = file:conjur-key\n",
			prefix: at("7", "awskeep_conjur_api_key_source") + ": ", want: []string{"path is not absolute"}},
		{name: "unknown source", profile: &profile.Profile{Name: "p", File: configPath, Source: "ldap",
			Key: "tpm:handle=0x81010002", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
			prefix: configPath + " (awskeep_source): ", want: []string{`unknown source "ldap"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.profile
			if p == nil && tt.text != "" {
				p = parseProfile(t, tt.text)
			}
			s, err := engine.Resolve(tt.flags, p, envOf(nil))
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", s)
			}
			if c := creds.ClassOf(err); c != creds.ClassConfig {
				t.Errorf("class = %v, want configuration", c)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("error %q does not start with %q", msg, tt.prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, pinSecret) {
				t.Errorf("error %q prints the pin-value", msg)
			}
			var ce *creds.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want a *creds.Error", err)
			}
		})
	}
}

// TestProfileRefusesUnknownSource shows why TestResolveErrors builds its unknown-source
// profile by hand: profile.Parse refuses it first, at its line.
func TestProfileRefusesUnknownSource(t *testing.T) {
	_, err := profile.Parse([]byte(baseProfile+"awskeep_source = ldap\n"), configPath, "p")
	var pe *profile.Error
	if !errors.As(err, &pe) || pe.Line != 4 {
		t.Fatalf("Parse error = %v, want a *profile.Error at line 4", err)
	}
}
