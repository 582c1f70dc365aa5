package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/samltest"
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
