package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// TestSAMLConjurProfileSettings: Conjur is configured by the profile's awskeep_conjur_*
// settings, which win over CONJUR_* variables naming another Conjur; the API key comes
// from the 0600 file awskeep_conjur_api_key_source names, and a key file others may read, or
// an API key source awskeep refuses, fails in one line naming the setting, before Conjur or
// STS is asked. awskeep doctor checks such a profile without reading the password.
func TestSAMLConjurProfileSettings(t *testing.T) {
	const idpPassword = "okta-Pw-conjur-profile-e2e"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": idpPassword}})
	// The environment points at a decoy Conjur with a password of its own: it must never be
	// asked.
	decoy := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": "decoy-Pw-not-this"}})
	su := newSAMLUser(t, idpPassword, conjur.APIKey, decoy.APIKey)
	keySource := su.passwordFile(t, "conjur-api-key", conjur.APIKey)
	loose := su.passwordFile(t, "conjur-api-key-loose", conjur.APIKey)
	if err := os.Chmod(strings.TrimPrefix(loose, "file:"), 0o640); err != nil {
		t.Fatal(err)
	}
	conjurLines := func(apiKeySource string) []string {
		return []string{
			"awskeep_saml_url = " + idp.OktaAppURL,
			"awskeep_saml_provider = okta",
			"awskeep_saml_username = " + samlUserName,
			"awskeep_saml_password_source = conjur:prod/okta/password",
			"awskeep_conjur_url = " + conjur.URL,
			"awskeep_conjur_account = " + conjur.Account,
			"awskeep_conjur_login = " + conjur.Login,
			"awskeep_conjur_api_key_source = " + apiKeySource,
		}
	}
	su.writeConfig(t,
		su.samlProfile("conjur-profile", conjurLines(keySource)...),
		su.samlProfile("loose-key", conjurLines(loose)...),
		su.samlProfile("key-from-conjur", conjurLines("conjur:prod/conjur/api-key")...),
	)
	env := conjurEnv(decoy)
	want := assumedRole(roleName(samlRole.RoleARN), samlUserName)

	t.Run("AWS CLI v1 through credential_process", func(t *testing.T) {
		if got := su.cliCallerARN(t, env, "conjur-profile"); got != want {
			t.Fatalf("aws sts get-caller-identity = %q, want %q", got, want)
		}
		if n := conjur.Retrievals(); n != 1 {
			t.Fatalf("the profile's Conjur was read %d times, want once", n)
		}
		if n := decoy.Authentications(); n != 0 {
			t.Fatalf("the Conjur of $CONJUR_APPLIANCE_URL saw %d logins: the profile should win", n)
		}
	})

	t.Run("doctor", func(t *testing.T) {
		reads := conjur.Retrievals()
		r := su.runSAML(env, "doctor", "--profile", "conjur-profile")
		mustSucceed(t, r, "doctor --profile conjur-profile")
		t.Logf("the report:\n%s", r.stdout)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		var names []string
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 2 || (f[0] != "ok" && f[0] != "skip") {
				t.Fatalf("not an ok or skip line: %q", l)
			}
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
		if got := strings.Join(names, " "); got != "config settings idp password kerberos sts clock cache" {
			t.Fatalf("checks %q", got)
		}
		for _, w := range []string{"Conjur at " + conjur.URL + " accepted the login", "(awskeep_conjur_url)", "(awskeep_conjur_api_key_source)", "not read"} {
			if !strings.Contains(r.stdout, w) {
				t.Fatalf("the report does not say %q", w)
			}
		}
		if n := conjur.Retrievals() - reads; n != 0 {
			t.Fatalf("doctor read %d Conjur variables", n)
		}
		if n := decoy.Authentications(); n != 0 {
			t.Fatalf("doctor logged in to the Conjur of $CONJUR_APPLIANCE_URL %d times", n)
		}
	})

	failures := []struct {
		name, profile string
		wants         []string
	}{
		{name: "key file open to the group", profile: "loose-key",
			wants: []string{"(awskeep_conjur_api_key_source)", "read the Conjur API key", "open to other users (mode 0640)", "chmod 600"}},
		{name: "API key from Conjur", profile: "key-from-conjur",
			wants: []string{"(awskeep_conjur_api_key_source)", "cannot come from Conjur", "keyring:NAME or file:PATH"}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			before, stsBefore := conjur.Authentications(), len(su.sts.samlCalls())
			// --no-cache: the cache entry of conjur-profile (same IdP, user and role) would answer.
			r := su.detachedSAML(awskeep, env, "credential-process", "--profile", tc.profile, "--no-cache")
			t.Logf("%s", strings.TrimSpace(r.stderr))
			mustFailClearly(t, r, tc.wants...)
			if n := conjur.Authentications() - before; n != 0 {
				t.Fatalf("Conjur saw %d logins", n)
			}
			if n := len(su.sts.samlCalls()) - stsBefore; n != 0 {
				t.Fatalf("STS saw %d AssumeRoleWithSAML calls", n)
			}
			if n := decoy.Authentications(); n != 0 {
				t.Fatalf("the Conjur of $CONJUR_APPLIANCE_URL saw %d logins", n)
			}
		})
	}
	su.checkSecrets(t)
}
