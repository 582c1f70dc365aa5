package engine_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// samlPassword is the IdP password of the SAML tests; no error may print it.
const samlPassword = "engine-saml-Pw"

// passwordFile writes password into a 0600 file and returns its path.
func passwordFile(t *testing.T, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idp-password")
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSAMLRoleNotOffered: a configured role that the assertion does not offer fails before
// STS with one line that starts with the profile line of awskeep_saml_role_arn and lists
// the roles offered.
func TestSAMLRoleNotOffered(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": samlPassword}})
	p := parseProfile(t, "[profile p]\nawskeep_source = saml\n"+
		"awskeep_saml_url = "+idp.LoginURL+"\n"+
		"awskeep_saml_provider = form\nawskeep_saml_username = alice\n"+
		"awskeep_saml_password_source = file:"+passwordFile(t, samlPassword)+"\n"+
		"awskeep_saml_role_arn = arn:aws:iam::"+samltest.AccountID+":role/not-offered\n"+
		// Nothing may reach STS: a closed port would say so with another error.
		"endpoint_url = http://127.0.0.1:1\n")
	s, err := engine.Resolve(engine.Settings{}, p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	provider, err := engine.New(s, isolated(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.Retrieve(context.Background())
	if err == nil {
		t.Fatal("Retrieve succeeded with a role the assertion does not offer")
	}
	msg := err.Error()
	want := at("7", "awskeep_saml_role_arn") + ": role arn:aws:iam::" + samltest.AccountID + ":role/not-offered is not in the assertion; it offers: " + samltest.DefaultRole.RoleARN
	if msg != want {
		t.Errorf("error\n %q, want\n %q", msg, want)
	}
	if c := creds.ClassOf(err); c != creds.ClassConfig {
		t.Errorf("class %v, want configuration", c)
	}
	if strings.Contains(msg, samlPassword) {
		t.Error("the error shows the IdP password")
	}
}

// TestSAMLConjurFromProfile: the awskeep_conjur_* settings of the profile win over the
// CONJUR_* variables, the API key comes from the file awskeep_conjur_api_key_source names,
// and a key file others may read is refused before Conjur is asked, in one line naming the
// setting.
func TestSAMLConjurFromProfile(t *testing.T) {
	const apiKeyLine = "11"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": samlPassword}})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/idp/password": samlPassword}})
	// The environment names another Conjur, account, login and key: none of them is used.
	// An STS that refuses every assertion at once (a closed port would be retried).
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>test STS</Message></Error></ErrorResponse>`)
	}))
	t.Cleanup(sts.Close)
	env := envOf(map[string]string{
		"CONJUR_APPLIANCE_URL": "https://conjur.invalid", "CONJUR_ACCOUNT": "env-account",
		"CONJUR_AUTHN_LOGIN": "env-login", "CONJUR_AUTHN_API_KEY": "env-Key-not-used",
	})
	profileWith := func(t *testing.T, keyFileMode os.FileMode) string {
		t.Helper()
		keyFile := passwordFile(t, conjur.APIKey)
		if err := os.Chmod(keyFile, keyFileMode); err != nil {
			t.Fatal(err)
		}
		return "[profile p]\nawskeep_source = saml\n" + // lines 1, 2
			"awskeep_saml_url = " + idp.LoginURL + "\n" +
			"awskeep_saml_provider = form\nawskeep_saml_username = alice\n" + // 4, 5
			"awskeep_saml_password_source = conjur:prod/idp/password\n" + // 6
			"awskeep_conjur_url = " + conjur.URL + "\n" +
			"awskeep_conjur_account = " + conjur.Account + "\n" +
			"awskeep_conjur_login = " + conjur.Login + "\n" +
			"endpoint_url = " + sts.URL + "\n" + // 10: STS refuses: the login is what is tested
			"awskeep_conjur_api_key_source = file:" + keyFile + "\n" // 11
	}
	retrieve := func(t *testing.T, text string) error {
		t.Helper()
		s, err := engine.Resolve(engine.Settings{}, parseProfile(t, text), env)
		if err != nil {
			t.Fatal(err)
		}
		opts := isolated(t)
		opts.Getenv = env
		provider, err := engine.New(s, opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provider.Retrieve(context.Background())
		if err == nil {
			t.Fatal("Retrieve succeeded against an STS that refuses everything")
		}
		for _, secret := range []string{samlPassword, conjur.APIKey, "env-Key-not-used"} {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q shows a secret", err)
			}
		}
		return err
	}

	t.Run("key file 0600", func(t *testing.T) {
		before := conjur.Retrievals()
		err := retrieve(t, profileWith(t, 0o600))
		// The IdP accepted the password from Conjur; only STS refused.
		if c := creds.ClassOf(err); c != creds.ClassSTS || !strings.Contains(err.Error(), "InvalidIdentityToken") {
			t.Fatalf("Retrieve: %v (class %v), want the test STS's refusal", err, c)
		}
		if n := conjur.Retrievals() - before; n != 1 {
			t.Fatalf("Conjur saw %d reads, want 1", n)
		}
	})
	t.Run("key file open to the group", func(t *testing.T) {
		before := conjur.Authentications()
		err := retrieve(t, profileWith(t, 0o640))
		want := "read the Conjur API key (" + at(apiKeyLine, "awskeep_conjur_api_key_source") + "): file:"
		if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, "is open to other users (mode 0640): run chmod 600") || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("error %q, want one line saying %q and the mode", msg, want)
		}
		if n := conjur.Authentications() - before; n != 0 {
			t.Fatalf("Conjur saw %d logins with a key from a file others may read", n)
		}
	})
}
