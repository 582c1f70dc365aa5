package keyringstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// fileOpts uses the file backend in dir with password, recording the requests.
func fileOpts(dir, password string, reqs *[]protocol.PasswordRequest) Options {
	return Options{
		AllowedBackends: []string{protocol.BackendFile},
		FileDir:         dir,
		Getenv:          func(string) string { return "" },
		FilePassword: func(_ context.Context, req protocol.PasswordRequest) (string, error) {
			if reqs != nil {
				*reqs = append(*reqs, req)
			}
			return password, nil
		},
	}
}

func TestFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	ctx := t.Context()
	var reqs []protocol.PasswordRequest
	opts := fileOpts(dir, "kr-pass", &reqs)

	_, err := Get(ctx, "okta", opts)
	if want := `no item "okta" in the keyring files in ` + dir; !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("Get() before Set = %v\nwant %s", err, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get() created %s: %v", dir, err)
	}
	if err := Set(ctx, "okta", "pw-1", opts); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0] != (protocol.PasswordRequest{Dir: dir, Confirm: true}) {
		t.Fatalf("password requests %+v, want one with Confirm for the first item", reqs)
	}
	if err := Set(ctx, "azure", "pw-2", opts); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[1].Confirm {
		t.Fatalf("password requests %+v, want the second without Confirm", reqs)
	}
	if got, err := Get(ctx, "okta", opts); err != nil || got != "pw-1" {
		t.Fatalf("Get() = %q, %v", got, err)
	}

	tests := []struct {
		name     string
		err      error
		wantKind error
		wantExit int
		wantErr  string
	}{
		{"wrong password", func() error { _, err := Get(ctx, "okta", fileOpts(dir, "not-it", nil)); return err }(),
			ErrUnauthorized, protocol.ExitUnauthorized, "cannot decrypt item \"okta\" in " + dir + ": wrong keyring password ($AWSKEEP_KEYRING_PASSWORD) or a damaged file"},
		{"set under another password", Set(ctx, "new", "pw", fileOpts(dir, "not-it", nil)),
			ErrUnauthorized, protocol.ExitUnauthorized, "the keyring password does not open the items already in " + dir},
		{"empty password", func() error { _, err := Get(ctx, "okta", fileOpts(dir, "", nil)); return err }(),
			ErrEmpty, protocol.ExitEmpty, "unlock the keyring files in " + dir + ": the keyring password is empty"},
		{"invalid name", Set(ctx, "../x", "pw", opts), ErrInvalidName, protocol.ExitUsage, `item name "../x": name starts with a dot`},
		{"empty secret", Set(ctx, "okta", "", opts), ErrEmpty, protocol.ExitEmpty, "nothing to store: the secret is empty"},
		{"unknown backend", Set(ctx, "okta", "pw", Options{AllowedBackends: []string{"kwallet"}}),
			ErrNotConfigured, protocol.ExitNotConfigured, `unknown keyring backend "kwallet"`},
		{"no directory", Set(ctx, "okta", "pw", Options{AllowedBackends: []string{protocol.BackendFile}, Getenv: func(string) string { return "" }}),
			ErrNotConfigured, protocol.ExitNotConfigured, "no directory for the keyring files: set $XDG_DATA_HOME or $HOME"},
		{"unavailable", Set(ctx, "okta", "pw", Options{AllowedBackends: []string{protocol.BackendPass}, PassCmd: "/nonexistent/pass"}),
			ErrUnavailable, protocol.ExitUnavailable, "no keyring backend available (pass: no /nonexistent/pass program (apt-get install pass)); choose one with $AWSKEEP_KEYRING_BACKEND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.wantKind) || !strings.Contains(tt.err.Error(), tt.wantErr) {
				t.Fatalf("error %v\nwant %v containing %q", tt.err, tt.wantKind, tt.wantErr)
			}
			if got := ExitCode(tt.err); got != tt.wantExit {
				t.Fatalf("ExitCode(%v) = %d, want %d", tt.err, got, tt.wantExit)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Set() wrote an item under another password: %v", err)
	}
}

func TestFilePasswordFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		protocol.EnvBackend: protocol.BackendFile, protocol.EnvFileDir: dir, protocol.EnvPassword: "p",
	}
	opts := OptionsFromEnv(func(k string) string { return env[k] })
	if err := Set(t.Context(), "okta", "pw", opts); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(t.Context(), "okta", opts); err != nil || got != "pw" {
		t.Fatalf("Get() = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "okta")); err != nil {
		t.Fatal(err)
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, protocol.ExitOK},
		{errors.New("x"), protocol.ExitFailure},
		{newError(ErrNotFound, nil, "x"), protocol.ExitNotFound},
		{newError(ErrUnauthorized, nil, "x"), protocol.ExitUnauthorized},
		{newError(ErrUnavailable, nil, "x"), protocol.ExitUnavailable},
		{newError(ErrNotConfigured, nil, "x"), protocol.ExitNotConfigured},
		{newError(ErrEmpty, nil, "x"), protocol.ExitEmpty},
		{newError(ErrForeignItem, nil, "x"), protocol.ExitForeignItem},
		{newError(ErrInvalidName, nil, "x"), protocol.ExitUsage},
		{newError(nil, context.Canceled, "x"), protocol.ExitFailure},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if got := Message(errors.New("a\nb\tc")); got != "awskeep-keyring: a b c" {
		t.Errorf("Message() = %q", got)
	}
}
