package secretsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

func TestParseConjurAPIKeySource(t *testing.T) {
	tests := []struct {
		name, spec string
		want       string // String() of the source; "" for an error
		errText    []string
	}{
		{name: "keyring", spec: "keyring:conjur-api-key", want: "keyring:conjur-api-key"},
		{name: "file", spec: " FILE:/run/secrets/conjur ", want: "file:/run/secrets/conjur"},
		{name: "conjur refused", spec: "conjur:prod/conjur/key",
			errText: []string{`secret source "conjur:prod/conjur/key": the Conjur API key cannot come from Conjur: it is the key that logs in to Conjur; want keyring:NAME or file:PATH`}},
		{name: "prompt refused", spec: "prompt",
			errText: []string{`secret source "prompt": the Conjur API key is not typed at a prompt`, "; want keyring:NAME or file:PATH"}},
		{name: "relative file", spec: "file:conjur-key",
			errText: []string{`secret source "file:conjur-key": path is not absolute`, "; want keyring:NAME or file:PATH"}},
		{name: "keyring without a name", spec: "keyring:",
			errText: []string{`secret source "keyring:"`, "; want keyring:NAME or file:PATH"}},
		// What may be the key itself, written in the wrong place, is not repeated.
		{name: "the key itself", spec: "3x4mpl3-Conjur-API-key",
			errText: []string{"secret source: not one of the accepted forms", "; want keyring:NAME or file:PATH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ParseConjurAPIKeySource(tt.spec, Options{Getenv: envMap(nil)})
			if tt.want != "" {
				if err != nil || src.String() != tt.want {
					t.Fatalf("ParseConjurAPIKeySource(%q) = %v, %v; want %s", tt.spec, src, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseConjurAPIKeySource(%q) = %v, want an error", tt.spec, src)
			}
			var se *SpecError
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("error %v is %T, want a *SpecError wrapping ErrInvalidSpec", err, err)
			}
			for _, w := range tt.errText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "3x4mpl3") {
				t.Errorf("error %q repeats the value", err)
			}
		})
	}
}

// apiKeyFile writes key into a file of the given mode and returns its path.
func apiKeyFile(t *testing.T, key string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conjur-api-key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// profileConjur is what core/engine passes for a profile that sets every awskeep_conjur_*
// setting but the certificate, with the origins it names them by.
func profileConjur(srv *conjurtest.Server, keySource Source) ConjurOptions {
	return ConjurOptions{
		ApplianceURL: srv.URL, Account: srv.Account, Login: srv.Login, APIKeySource: keySource,
		Origins: map[string]string{
			EnvConjurApplianceURL: "cfg:11 (awskeep_conjur_url)",
			EnvConjurAccount:      "cfg:12 (awskeep_conjur_account)",
			EnvConjurAuthnLogin:   "cfg:13 (awskeep_conjur_login)",
			EnvConjurAuthnAPIKey:  "cfg:14 (awskeep_conjur_api_key_source)",
		},
	}
}

// TestConjurAPIKeySource: the API key from awskeep_conjur_api_key_source wins over
// $CONJUR_AUTHN_API_KEY, and every way it can fail names the setting, says what to do, is
// refused before Conjur is asked, and shows no key.
func TestConjurAPIKeySource(t *testing.T) {
	const password = "idp-Pw-from-conjur"
	srv := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": password}})
	// The environment points at another Conjur with another key: the profile wins.
	env := map[string]string{
		EnvConjurApplianceURL: "https://conjur.invalid", EnvConjurAccount: "other", EnvConjurAuthnLogin: "other",
		EnvConjurAuthnAPIKey: "env-key-not-this-one", "HOME": "/nonexistent",
	}
	parseKey := func(t *testing.T, spec string, opts Options) Source {
		t.Helper()
		src, err := ParseConjurAPIKeySource(spec, opts)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	read := func(t *testing.T, c ConjurOptions) (string, error) {
		t.Helper()
		return mustParse(t, "conjur:prod/okta/password", Options{Getenv: envMap(env), Conjur: c}).Secret(t.Context())
	}

	t.Run("from a 0600 file", func(t *testing.T) {
		before := srv.Authentications()
		src := parseKey(t, "file:"+apiKeyFile(t, srv.APIKey, 0o600), Options{Getenv: envMap(env)})
		got, err := read(t, profileConjur(srv, src))
		if err != nil || got != password {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
		if n := srv.Authentications() - before; n != 1 {
			t.Fatalf("Conjur saw %d logins, want 1", n)
		}
	})

	t.Run("from the keyring", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "keyring")
		kopts := fileKeyringOpts(dir, "kr-pass", noTTY())
		src := parseKey(t, "keyring:conjur-api-key", kopts)
		_, err := read(t, profileConjur(srv, src))
		want := "conjur:prod/okta/password: read the Conjur API key (cfg:14 (awskeep_conjur_api_key_source)): keyring:conjur-api-key: " +
			`no item "conjur-api-key" in the keyring files in ` + dir + ": store it with awskeep-keyring set conjur-api-key (it reads the key from its standard input)"
		if err == nil || err.Error() != want || !errors.Is(err, ErrNotConfigured) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("Secret() before the key is stored: %v\nwant %s", err, want)
		}
		if err := Store(t.Context(), "conjur-api-key", srv.APIKey, kopts); err != nil {
			t.Fatal(err)
		}
		got, err := read(t, profileConjur(srv, src))
		if err != nil || got != password {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
	})

	t.Run("APIKey wins over the source", func(t *testing.T) {
		c := profileConjur(srv, failingSource{t})
		c.APIKey = srv.APIKey
		if got, err := read(t, c); err != nil || got != password {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
	})

	failures := []struct {
		name    string
		key     func(t *testing.T) Source
		kind    error
		errText []string
	}{
		{name: "file open to the group", kind: ErrInsecure,
			key: func(t *testing.T) Source {
				return parseKey(t, "file:"+apiKeyFile(t, srv.APIKey, 0o640), Options{Getenv: envMap(env)})
			},
			errText: []string{"conjur:prod/okta/password: read the Conjur API key (cfg:14 (awskeep_conjur_api_key_source)): file:", "is open to other users (mode 0640): run chmod 600"}},
		{name: "file missing", kind: ErrNotFound,
			key: func(t *testing.T) Source {
				return parseKey(t, "file:"+filepath.Join(t.TempDir(), "none"), Options{Getenv: envMap(env)})
			},
			errText: []string{"read the Conjur API key (cfg:14 (awskeep_conjur_api_key_source)): file:", "none does not exist"}},
		{name: "empty file", kind: ErrEmpty,
			key: func(t *testing.T) Source {
				return parseKey(t, "file:"+apiKeyFile(t, "", 0o600), Options{Getenv: envMap(env)})
			},
			errText: []string{"read the Conjur API key (cfg:14 (awskeep_conjur_api_key_source))", "is empty"}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Authentications()
			_, err := read(t, profileConjur(srv, tt.key(t)))
			if err == nil || !errors.Is(err, tt.kind) || !errors.Is(err, ErrNotConfigured) {
				t.Fatalf("Secret() = %v, want %v and %v", err, tt.kind, ErrNotConfigured)
			}
			for _, w := range tt.errText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), srv.APIKey) {
				t.Errorf("error %q shows the API key", err)
			}
			if n := srv.Authentications() - before; n != 0 {
				t.Errorf("Conjur saw %d logins; the key should have been refused first", n)
			}
		})
	}

	t.Run("a wrong key names the settings to check", func(t *testing.T) {
		src := parseKey(t, "file:"+apiKeyFile(t, "wrong-Key-from-file", 0o600), Options{Getenv: envMap(env)})
		_, err := read(t, profileConjur(srv, src))
		want := "check the login (cfg:13 (awskeep_conjur_login)) and the API key (cfg:14 (awskeep_conjur_api_key_source))"
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "wrong-Key-from-file") {
			t.Fatalf("Secret() = %v, want ErrUnauthorized saying %q (and not the key)", err, want)
		}
	})
}

// failingSource fails the test when read.
type failingSource struct{ t *testing.T }

func (s failingSource) Secret(context.Context) (string, error) {
	s.t.Error("the API key source was read")
	return "", errors.New("not to be read")
}
func (failingSource) String() string { return "failing" }

// TestConjurMessagesNameTheProfile: settings from the profile are named by their origin in
// what Conjur's answers make awskeep say, and a missing one by both places it can be set.
func TestConjurMessagesNameTheProfile(t *testing.T) {
	srv := conjurtest.Start(t, conjurtest.Options{})
	tests := []struct {
		name   string
		change func(c *ConjurOptions)
		kind   error
		want   string
	}{
		{name: "no account anywhere", change: func(c *ConjurOptions) { c.Account = "" }, kind: ErrNotConfigured,
			want: "no Conjur account: set $CONJUR_ACCOUNT or awskeep_conjur_account in the profile"},
		{name: "no API key anywhere", change: func(c *ConjurOptions) { c.APIKeySource = nil }, kind: ErrNotConfigured,
			want: `no Conjur API key for login "` + srv.Login + `": set $CONJUR_AUTHN_API_KEY or awskeep_conjur_api_key_source in the profile (keyring:NAME or file:PATH)`},
		{name: "URL with a password", change: func(c *ConjurOptions) { c.ApplianceURL = "https://u:pw-in-URL@conjur.example.com" }, kind: ErrNotConfigured,
			want: "the Conjur URL (cfg:11 (awskeep_conjur_url)) holds a user name or password"},
		{name: "plain http elsewhere", change: func(c *ConjurOptions) { c.ApplianceURL = "http://conjur.example.com" }, kind: ErrInsecure,
			want: "the Conjur URL (cfg:11 (awskeep_conjur_url)) is plain http to another host (conjur.example.com)"},
		{name: "wrong account", change: func(c *ConjurOptions) { c.Account = "nope" }, kind: ErrUnauthorized,
			want: "check the login (cfg:13 (awskeep_conjur_login)) and the API key (cfg:14 (awskeep_conjur_api_key_source))"},
		{name: "wrong path", change: func(c *ConjurOptions) { c.ApplianceURL += "/api" }, kind: ErrNotConfigured,
			want: "check the URL (cfg:11 (awskeep_conjur_url)) and the account (cfg:12 (awskeep_conjur_account))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ParseConjurAPIKeySource("file:"+apiKeyFile(t, srv.APIKey, 0o600), Options{Getenv: envMap(nil)})
			if err != nil {
				t.Fatal(err)
			}
			c := profileConjur(srv, src)
			tt.change(&c)
			_, err = mustParse(t, "conjur:v", Options{Getenv: envMap(nil), Conjur: c}).Secret(t.Context())
			if !errors.Is(err, tt.kind) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("Secret() = %v\nwant %v saying %q", err, tt.kind, tt.want)
			}
			if strings.Contains(err.Error(), "pw-in-URL") || strings.Contains(err.Error(), srv.APIKey) {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

func TestCheckConjurURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" for accepted
	}{
		{"https://conjur.example.com", ""},
		{"https://tenant.secretsmgr.cyberark.cloud/api", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://localhost", ""},
		{"conjur.example.com", "is not an https:// URL"},
		{"ftp://conjur.example.com", "is not an https:// URL"},
		{"https://conjur.example.com/?x=1", "has a query or fragment"},
		{"https://alice:s3cret@conjur.example.com", "holds a user name or password"},
		{"http://conjur.example.com", "is plain http to another host (conjur.example.com)"},
		{"https://conj ur.example.com/%zz", "is not a URL"},
	}
	for _, tt := range tests {
		err := CheckConjurURL(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckConjurURL(%q) = %v, want nil", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckConjurURL(%q) = %v, want %q", tt.url, err, tt.want)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("CheckConjurURL(%q) = %v: shows the password", tt.url, err)
		}
	}
}

func TestConjurOptionsStringNamesTheKeySource(t *testing.T) {
	src, err := ParseConjurAPIKeySource("keyring:conjur-api-key", Options{Getenv: envMap(nil)})
	if err != nil {
		t.Fatal(err)
	}
	c := ConjurOptions{ApplianceURL: "https://conjur.example.com", APIKey: "the-API-key", APIKeySource: src}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if !strings.Contains(s, "APIKey:set APIKeySource:keyring:conjur-api-key") || strings.Contains(s, "the-API-key") {
			t.Errorf("printed %s", s)
		}
	}
}
