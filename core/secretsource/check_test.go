package secretsource

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// TestCheck: Check says what it found without the secret, reads neither the file nor the
// Conjur variable, and fails with Secret's errors.
func TestCheck(t *testing.T) {
	const secret = "checked-Secret-not-shown"
	ctx := t.Context()
	srv := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": secret}})
	keyringDir := filepath.Join(t.TempDir(), "keyring")
	kopts := fileKeyringOpts(keyringDir, "kr-pass", noTTY())
	if err := Store(ctx, "stored", secret, kopts); err != nil {
		t.Fatal(err)
	}
	// A copy of the helper that anyone may change: refused.
	unsafeDir := t.TempDir()
	unsafeHelper := filepath.Join(unsafeDir, "awskeep-keyring")
	data, err := os.ReadFile(helperBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unsafeHelper, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(unsafeHelper, 0o777); err != nil {
		t.Fatal(err)
	}
	unsafeOpts := kopts
	unsafeOpts.Keyring.Helper = unsafeHelper

	tests := []struct {
		name   string
		source func(t *testing.T) Source
		kind   error    // nil: Check succeeds
		says   []string // in the detail, or in the error
	}{
		{name: "file 0600", source: func(t *testing.T) Source {
			return mustParse(t, "file:"+apiKeyFile(t, secret, 0o600), Options{})
		}, says: []string{"is a regular file of yours, mode 0600 (not read)"}},
		{name: "file 0644", source: func(t *testing.T) Source {
			return mustParse(t, "file:"+apiKeyFile(t, secret, 0o644), Options{})
		}, kind: ErrInsecure, says: []string{"is open to other users (mode 0644): run chmod 600"}},
		{name: "file missing", source: func(t *testing.T) Source {
			return mustParse(t, "file:"+filepath.Join(t.TempDir(), "none"), Options{})
		}, kind: ErrNotFound, says: []string{"none does not exist"}},
		{name: "keyring item stored", source: func(t *testing.T) Source { return mustParse(t, "keyring:stored", kopts) },
			says: []string{"the keyring helper " + helperBin + " is trusted", `the keyring holds item "stored"`, "read and discarded"}},
		{name: "keyring item missing", source: func(t *testing.T) Source { return mustParse(t, "keyring:missing", kopts) },
			kind: ErrNotFound, says: []string{`no item "missing"`, "store it with awskeep saml store-password --profile work"}},
		{name: "keyring helper others may change", source: func(t *testing.T) Source { return mustParse(t, "keyring:stored", unsafeOpts) },
			kind: ErrInsecure, says: []string{"refusing the keyring helper " + unsafeHelper}},
		{name: "conjur login", source: func(t *testing.T) Source { return mustParse(t, "conjur:prod/okta/password", conjurOpts(srv, nil)) },
			says: []string{"Conjur at " + srv.URL + ` accepted the login "` + srv.Login + `"`, "URL from $CONJUR_APPLIANCE_URL",
				"API key from $CONJUR_AUTHN_API_KEY", `variable "prod/okta/password" not read`}},
		{name: "conjur wrong key", source: func(t *testing.T) Source {
			return mustParse(t, "conjur:prod/okta/password", conjurOpts(srv, func(e map[string]string) { e[EnvConjurAuthnAPIKey] = "wrong" }))
		}, kind: ErrUnauthorized, says: []string{"Conjur refused the login"}},
		{name: "conjur not configured", source: func(t *testing.T) Source {
			return mustParse(t, "conjur:prod/okta/password", Options{Getenv: envMap(nil)})
		}, kind: ErrNotConfigured, says: []string{"no Conjur URL: set $CONJUR_APPLIANCE_URL or awskeep_conjur_url in the profile"}},
		{name: "prompt with a terminal", source: func(t *testing.T) Source {
			return mustParse(t, "prompt", Options{Prompter: &fakePrompter{}})
		}, says: []string{"asked on the terminal when awskeep logs in"}},
		{name: "prompt without a terminal", source: func(t *testing.T) Source { return mustParse(t, "prompt", Options{Prompter: noTTY()}) },
			says: []string{"there is none here", "run awskeep login at a terminal first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retrievals := srv.Retrievals()
			detail, err := Check(ctx, tt.source(t))
			text := detail
			switch {
			case tt.kind == nil && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.kind != nil && !errors.Is(err, tt.kind):
				t.Fatalf("Check = %q, %v; want %v", detail, err, tt.kind)
			case err != nil:
				text = err.Error()
			}
			for _, w := range tt.says {
				if !strings.Contains(text, w) {
					t.Errorf("Check says %q, not %q", text, w)
				}
			}
			if strings.Contains(text, secret) || strings.Contains(text, srv.APIKey) || strings.Contains(text, "kr-pass") {
				t.Errorf("Check shows a secret: %q", text)
			}
			if n := srv.Retrievals() - retrievals; n != 0 {
				t.Errorf("Check read %d Conjur variables", n)
			}
		})
	}
}
