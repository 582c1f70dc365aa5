package secretsource

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	opts := Options{Getenv: envMap(map[string]string{"HOME": "/home/alice"})}
	tests := []struct {
		name, spec string
		want       string // String() of the source; "" when Parse must fail
		wantErr    string // part of the error
	}{
		{name: "prompt", spec: "prompt", want: "prompt"},
		{name: "prompt any case, spaces", spec: "  Prompt\t", want: "prompt"},
		{name: "conjur", spec: "conjur:prod/okta/password", want: "conjur:prod/okta/password"},
		{name: "conjur kind any case", spec: "CONJUR:prod/okta/password", want: "conjur:prod/okta/password"},
		{name: "conjur id with colon and space", spec: "conjur:team a:okta", want: "conjur:team a:okta"},
		{name: "conjur unicode id", spec: "conjur:équipe/mot-de-passe", want: "conjur:équipe/mot-de-passe"},
		{name: "keyring", spec: "keyring:okta", want: "keyring:okta"},
		{name: "keyring all allowed characters", spec: "keyring:a.b_c-d@e+f9", want: "keyring:a.b_c-d@e+f9"},
		{name: "file", spec: "file:/run/awskeep/okta", want: "file:/run/awskeep/okta"},
		{name: "file cleaned", spec: "file:/run//awskeep/./x/../okta", want: "file:/run/awskeep/okta"},
		{name: "file home", spec: "file:~/.config/okta", want: "file:/home/alice/.config/okta"},
		{name: "file URI", spec: "file:///run/okta", want: "file:/run/okta"},
		{name: "file URI localhost", spec: "file://localhost/run/okta", want: "file:/run/okta"},
		{name: "file path with spaces and percent", spec: "file:/run/my dir/100%", want: "file:/run/my dir/100%"},

		{name: "empty", spec: "", wantErr: "secret source: empty; want conjur:VARIABLE, keyring:NAME, file:PATH or prompt"},
		{name: "blank", spec: "  ", wantErr: "empty"},
		{name: "unknown kind", spec: "env:IDP_PASSWORD", wantErr: "not one of the accepted forms"},
		{name: "bare word", spec: "hunter2", wantErr: "not one of the accepted forms (the value is not repeated"},
		{name: "prompt with argument", spec: "prompt:please", wantErr: `secret source "prompt:": prompt takes no argument`},
		{name: "conjur no colon", spec: "conjur", wantErr: `secret source "conjur": conjur needs an argument after a colon`},
		{name: "conjur empty", spec: "conjur:", wantErr: `secret source "conjur:": empty variable id`},
		{name: "conjur dot dot", spec: "conjur:..", wantErr: "not a variable id"},
		{name: "conjur control", spec: "conjur:a\x07b", wantErr: "control characters"},
		{name: "conjur inner spaces at end", spec: "conjur: x", wantErr: "starts or ends with a space"},
		{name: "keyring empty", spec: "keyring:", wantErr: `secret source "keyring:": empty name`},
		{name: "keyring slash", spec: "keyring:../x", wantErr: "starts with a dot"},
		{name: "keyring slash inside", spec: "keyring:a/b", wantErr: "only letters, digits and . _ - @ +"},
		{name: "keyring too long", spec: "keyring:" + strings.Repeat("a", 129), wantErr: "longer than 128"},
		{name: "keyring unicode", spec: "keyring:clé", wantErr: "only letters"},
		{name: "file relative", spec: "file:run/okta", wantErr: "not absolute"},
		{name: "file empty", spec: "file:", wantErr: "empty path"},
		{name: "file other host", spec: "file://server/run/okta", wantErr: "another host"},
		{name: "file control", spec: "file:/run/a\nb", wantErr: "control characters"},
		{name: "invalid UTF-8", spec: "file:/run/\xff", wantErr: "not one of the accepted forms"},
		{name: "too long", spec: "file:/" + strings.Repeat("a", maxSpec), wantErr: "not one of the accepted forms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Parse(tt.spec, opts)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.spec, src)
				}
				if !errors.Is(err, ErrInvalidSpec) {
					t.Errorf("Parse(%q) error %v is not ErrInvalidSpec", tt.spec, err)
				}
				var se *SpecError
				if !errors.As(err, &se) {
					t.Errorf("Parse(%q) error %T is not a *SpecError", tt.spec, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse(%q) error %q, want it to contain %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if got := src.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.spec, got, tt.want)
			}
			again, err := Parse(src.String(), opts)
			if err != nil || again.String() != src.String() {
				t.Errorf("Parse(%q) = %v, %v; want it to read its own String back", src.String(), again, err)
			}
		})
	}
}

func TestParseHomeMissing(t *testing.T) {
	_, err := Parse("file:~/okta", Options{Getenv: envMap(nil)})
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "$HOME") {
		t.Fatalf("Parse(file:~/okta) without HOME: %v, want an error naming $HOME", err)
	}
}

func TestParseKeyringBackends(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "default", opts: Options{Getenv: envMap(nil)}},
		{name: "option", opts: Options{Getenv: envMap(nil), Keyring: KeyringOptions{AllowedBackends: []string{"file", "keyctl"}}}},
		{name: "environment", opts: Options{Getenv: envMap(map[string]string{EnvKeyringBackend: "pass, file"})}},
		{name: "unknown option", opts: Options{Getenv: envMap(nil), Keyring: KeyringOptions{AllowedBackends: []string{"kwallet"}}},
			wantErr: `keyring:okta: unknown keyring backend "kwallet" in KeyringOptions.AllowedBackends: want secret-service, keyctl, pass or file`},
		{name: "unknown environment", opts: Options{Getenv: envMap(map[string]string{EnvKeyringBackend: "file,wincred"})},
			wantErr: `unknown keyring backend "wincred" in $AWSKEEP_KEYRING_BACKEND`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("keyring:okta", tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse: %v, want ErrNotConfigured containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestSourcePrintsOnlyItsName: %v, %+v, %#v and slog of a source and of Options show no
// API key, whatever is printed.
func TestSourcePrintsOnlyItsName(t *testing.T) {
	const key = "api-key-must-not-print-3c8d"
	opts := Options{Getenv: envMap(nil), Conjur: ConjurOptions{APIKey: key, SSLCertificate: "-----BEGIN CERT-----" + key}}
	for _, spec := range []string{"conjur:prod/okta", "keyring:okta", "file:/run/x", "prompt"} {
		src := mustParse(t, spec, opts)
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("source", "src", src, "opts", opts.Conjur)
		for _, s := range []string{
			fmt.Sprintf("%v", src), fmt.Sprintf("%+v", src), fmt.Sprintf("%#v", src), fmt.Sprint(src),
			fmt.Sprintf("%v", opts), fmt.Sprintf("%+v", opts), fmt.Sprintf("%#v", opts), logged.String(),
		} {
			if strings.Contains(s, key) {
				t.Errorf("%s printed the API key: %s", spec, s)
			}
		}
		if got := fmt.Sprintf("%v", src); got != spec {
			t.Errorf("%%v of %s = %q", spec, got)
		}
	}
}
