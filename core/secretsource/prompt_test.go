package secretsource

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/prompt"
)

func TestPrompt(t *testing.T) {
	opts := func(p prompt.Prompter) Options {
		return Options{Prompter: p, Question: "Okta password for alice", Setting: "awskeep_saml_password_source in [profile work]"}
	}
	t.Run("answer", func(t *testing.T) {
		p := &fakePrompter{answers: []string{"pw"}}
		got, err := mustParse(t, "prompt", opts(p)).Secret(t.Context())
		if err != nil || got != "pw" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
		if q := p.questions(); !slices.Equal(q, []string{"Okta password for alice: "}) {
			t.Fatalf("asked %q", q)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		p := noTTY()
		_, err := mustParse(t, "prompt", Options{Prompter: p}).Secret(t.Context())
		if want := "prompt: cannot ask for the password: no terminal; set awskeep_saml_password_source"; err == nil || err.Error() != want {
			t.Fatalf("Secret() = %v, want %q", err, want)
		}
	})
	t.Run("no terminal fails before asking", func(t *testing.T) {
		p := noTTY()
		_, err := mustParse(t, "prompt", opts(p)).Secret(t.Context())
		var nt *prompt.NoTerminalError
		if !errors.Is(err, prompt.ErrNoTerminal) || !errors.As(err, &nt) {
			t.Fatalf("Secret() = %v, want a *prompt.NoTerminalError", err)
		}
		if want := "prompt: cannot ask for Okta password for alice: no terminal; set awskeep_saml_password_source in [profile work]"; err.Error() != want {
			t.Fatalf("Secret() = %q, want %q", err, want)
		}
		if len(p.questions()) != 0 {
			t.Fatalf("asked %q with no terminal", p.questions())
		}
	})
	t.Run("no terminal found while asking", func(t *testing.T) {
		p := &fakePrompter{err: prompt.ErrNoTerminal}
		_, err := mustParse(t, "prompt", opts(p)).Secret(t.Context())
		if !errors.Is(err, prompt.ErrNoTerminal) || !strings.Contains(err.Error(), "set awskeep_saml_password_source in [profile work]") {
			t.Fatalf("Secret() = %v", err)
		}
	})
	t.Run("empty answer", func(t *testing.T) {
		p := &fakePrompter{answers: []string{""}}
		_, err := mustParse(t, "prompt", opts(p)).Secret(t.Context())
		if !errors.Is(err, ErrEmpty) || err.Error() != "prompt: nothing entered for Okta password for alice" {
			t.Fatalf("Secret() = %v", err)
		}
	})
	t.Run("prompter error", func(t *testing.T) {
		boom := errors.New("prompt: read /dev/tty: input/output error")
		_, err := mustParse(t, "prompt", opts(&fakePrompter{err: boom})).Secret(t.Context())
		if !errors.Is(err, boom) {
			t.Fatalf("Secret() = %v", err)
		}
	})
}
