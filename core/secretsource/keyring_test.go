package secretsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/prompt"
)

// fileKeyringOpts uses the file backend in dir with password (from the environment; "" for
// none) and prompter p.
func fileKeyringOpts(dir, password string, p prompt.Prompter) Options {
	env := map[string]string{"HOME": "/nonexistent"}
	if password != "" {
		env[EnvKeyringPassword] = password
	}
	return Options{
		Getenv:   envMap(env),
		Prompter: p,
		Profile:  "work",
		Keyring:  KeyringOptions{AllowedBackends: []string{BackendFile}, FileDir: dir},
	}
}

func TestKeyringFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	ctx := t.Context()
	opts := fileKeyringOpts(dir, "kr-pass", noTTY())

	// Nothing stored yet, and reading does not create the directory.
	_, err := mustParse(t, "keyring:okta", opts).Secret(ctx)
	if want := "keyring:okta: no item \"okta\" in the keyring files in " + dir + ": store it with awskeep saml store-password --profile work"; !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("Secret() before Store = %v\nwant %s", err, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Secret() created %s: %v", dir, err)
	}

	if err := Store(ctx, "okta", "pw-1", opts); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "okta"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file: %v, %v", fi, err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("keyring directory: %v, %v", di, err)
	}
	if got, err := mustParse(t, "keyring:okta", opts).Secret(ctx); err != nil || got != "pw-1" {
		t.Fatalf("Secret() = %q, %v", got, err)
	}
	// Replace.
	if err := Store(ctx, "okta", "pw-2", opts); err != nil {
		t.Fatal(err)
	}
	if got, err := mustParse(t, "keyring:okta", opts).Secret(ctx); err != nil || got != "pw-2" {
		t.Fatalf("Secret() after replacing = %q, %v", got, err)
	}
	// Another item in the same directory; missing items are still not found.
	if err := Store(ctx, "azure", "pw-3", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := mustParse(t, "keyring:gone", opts).Secret(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Secret() of a missing item = %v", err)
	}

	t.Run("wrong password", func(t *testing.T) {
		_, err := mustParse(t, "keyring:okta", fileKeyringOpts(dir, "not-it", nil)).Secret(ctx)
		want := "keyring:okta: cannot decrypt item \"okta\" in " + dir + ": wrong keyring password ($AWSKEEP_KEYRING_PASSWORD) or a damaged file"
		if !errors.Is(err, ErrUnauthorized) || err.Error() != want {
			t.Fatalf("Secret() = %v\nwant %s", err, want)
		}
	})
	t.Run("store refuses a second password", func(t *testing.T) {
		err := Store(ctx, "new", "pw", fileKeyringOpts(dir, "not-it", nil))
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "the keyring password does not open the items already in "+dir) {
			t.Fatalf("Store() = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Store() wrote an item under another password: %v", err)
		}
	})
	t.Run("no password and no terminal", func(t *testing.T) {
		_, err := mustParse(t, "keyring:okta", fileKeyringOpts(dir, "", noTTY())).Secret(ctx)
		want := "keyring:okta: unlock the keyring files in " + dir + ": cannot ask for the password of the awskeep keyring files in " + dir + ": no terminal; set $AWSKEEP_KEYRING_PASSWORD"
		if !errors.Is(err, prompt.ErrNoTerminal) || err.Error() != want {
			t.Fatalf("Secret() = %v\nwant %s", err, want)
		}
	})
	t.Run("password from the terminal", func(t *testing.T) {
		p := &fakePrompter{answers: []string{"kr-pass"}}
		got, err := mustParse(t, "keyring:okta", fileKeyringOpts(dir, "", p)).Secret(ctx)
		if err != nil || got != "pw-2" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
		if q := p.questions(); len(q) != 1 || !strings.Contains(q[0], dir) {
			t.Fatalf("asked %q", q)
		}
	})
	t.Run("FilePassword wins", func(t *testing.T) {
		o := fileKeyringOpts(dir, "not-it", nil)
		o.Keyring.FilePassword = func(context.Context) (string, error) { return "kr-pass", nil }
		if got, err := mustParse(t, "keyring:okta", o).Secret(ctx); err != nil || got != "pw-2" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
		o.Keyring.FilePassword = func(context.Context) (string, error) { return "", errors.New("vault sealed") }
		if _, err := mustParse(t, "keyring:okta", o).Secret(ctx); err == nil || !strings.HasSuffix(err.Error(), ": vault sealed") {
			t.Fatalf("Secret() with a failing FilePassword = %v", err)
		}
	})
	t.Run("damaged file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "broken"), []byte("not a JWE"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := mustParse(t, "keyring:broken", opts).Secret(ctx)
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "or a damaged file") {
			t.Fatalf("Secret() = %v", err)
		}
	})
}

func TestKeyringFileFirstPasswordTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	ctx := t.Context()

	p := &fakePrompter{answers: []string{"one", "two"}}
	err := Store(ctx, "okta", "pw", fileKeyringOpts(dir, "", p))
	if err == nil || !strings.Contains(err.Error(), "the two keyring passwords differ: nothing stored") {
		t.Fatalf("Store() with two different passwords = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Store() left %v", entries)
	}

	p = &fakePrompter{answers: []string{"one", "one"}}
	if err := Store(ctx, "okta", "pw", fileKeyringOpts(dir, "", p)); err != nil {
		t.Fatal(err)
	}
	if len(p.questions()) != 2 {
		t.Fatalf("asked %q, want the password twice", p.questions())
	}
	// Later items: once, and checked against the first.
	p = &fakePrompter{answers: []string{"one"}}
	if err := Store(ctx, "azure", "pw2", fileKeyringOpts(dir, "", p)); err != nil {
		t.Fatal(err)
	}
	if len(p.questions()) != 1 {
		t.Fatalf("asked %q, want the password once", p.questions())
	}
}

func TestStoreChecks(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, item, secret string
		opts               Options
		wantKind           error
		wantErr            string
	}{
		{name: "bad name", item: "a/b", secret: "x", opts: fileKeyringOpts(dir, "p", nil), wantKind: ErrInvalidSpec,
			wantErr: `secret source "keyring:a/b": name may hold only letters, digits and . _ - @ +`},
		{name: "empty secret", item: "okta", secret: "", opts: fileKeyringOpts(dir, "p", nil), wantKind: ErrEmpty,
			wantErr: "keyring:okta: nothing to store: the secret is empty"},
		{name: "unknown backend", item: "okta", secret: "x",
			opts:     Options{Getenv: envMap(map[string]string{EnvKeyringBackend: "kwallet"})},
			wantKind: ErrNotConfigured, wantErr: `keyring:okta: unknown keyring backend "kwallet" in $AWSKEEP_KEYRING_BACKEND`},
		{name: "relative FileDir", item: "okta", secret: "x",
			opts:     Options{Getenv: envMap(nil), Keyring: KeyringOptions{AllowedBackends: []string{BackendFile}, FileDir: "rel"}},
			wantKind: ErrNotConfigured, wantErr: "FileDir is not an absolute path"},
		{name: "no home for the file backend", item: "okta", secret: "x",
			opts:     Options{Getenv: envMap(nil), Keyring: KeyringOptions{AllowedBackends: []string{BackendFile}}},
			wantKind: ErrNotConfigured, wantErr: "no directory for the keyring files: set $XDG_DATA_HOME or $HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Store(t.Context(), tt.item, tt.secret, tt.opts)
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Store() = %v\nwant %v containing %q", err, tt.wantKind, tt.wantErr)
			}
		})
	}
}

func TestKeyringDefaultDirectory(t *testing.T) {
	home := t.TempDir()
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"XDG_DATA_HOME", map[string]string{"XDG_DATA_HOME": filepath.Join(home, "data"), "HOME": home}, filepath.Join(home, "data", "awskeep", "keyring")},
		{"HOME", map[string]string{"HOME": home}, filepath.Join(home, ".local", "share", "awskeep", "keyring")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.env[EnvKeyringPassword] = "p"
			tt.env[EnvKeyringBackend] = BackendFile
			opts := Options{Getenv: envMap(tt.env)}
			if err := Store(t.Context(), "okta", "pw", opts); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(tt.want, "okta")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKeyringUnavailable(t *testing.T) {
	opts := Options{
		Getenv:  envMap(map[string]string{"HOME": t.TempDir()}),
		Keyring: KeyringOptions{AllowedBackends: []string{BackendPass}, PassCmd: "/nonexistent/pass"},
	}
	_, err := mustParse(t, "keyring:okta", opts).Secret(t.Context())
	want := "keyring:okta: no keyring backend available (pass: no /nonexistent/pass program (apt-get install pass)); choose one with $AWSKEEP_KEYRING_BACKEND"
	if !errors.Is(err, ErrUnavailable) || err.Error() != want {
		t.Fatalf("Secret() = %v\nwant %s", err, want)
	}
	if err := Store(t.Context(), "okta", "pw", opts); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Store() = %v", err)
	}
}

// TestKeyringFallsThrough: the first available backend of the list is used.
func TestKeyringFallsThrough(t *testing.T) {
	dir := t.TempDir()
	opts := fileKeyringOpts(dir, "p", nil)
	opts.Keyring.AllowedBackends = []string{BackendPass, BackendFile}
	opts.Keyring.PassCmd = "/nonexistent/pass"
	if err := Store(t.Context(), "okta", "pw", opts); err != nil {
		t.Fatal(err)
	}
	if got, err := mustParse(t, "keyring:okta", opts).Secret(t.Context()); err != nil || got != "pw" {
		t.Fatalf("Secret() = %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "okta" }) {
		t.Fatalf("the file backend holds %v", entries)
	}
}

func TestKeyringContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	block := make(chan struct{})
	defer close(block)
	opts := fileKeyringOpts(t.TempDir(), "", nil)
	opts.Keyring.FilePassword = func(context.Context) (string, error) { <-block; return "p", nil }
	err := Store(ctx, "okta", "pw", opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Store() with a cancelled context = %v", err)
	}
}
