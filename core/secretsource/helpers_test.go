package secretsource

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/core/prompt"
)

// fakePrompter answers Secret from a list and records the questions.
type fakePrompter struct {
	mu          sync.Mutex
	answers     []string
	err         error // returned by Secret instead of an answer
	unavailable error // returned by Available
	asked       []string
}

var (
	_ prompt.Prompter     = (*fakePrompter)(nil)
	_ prompt.Availability = (*fakePrompter)(nil)
)

func (p *fakePrompter) Available() error { return p.unavailable }

func (p *fakePrompter) Secret(_ context.Context, q string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, q)
	if p.err != nil {
		return "", p.err
	}
	if len(p.answers) == 0 {
		return "", errors.New("fakePrompter: no more answers")
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

func (p *fakePrompter) Line(ctx context.Context, q string) (string, error) { return p.Secret(ctx, q) }

func (p *fakePrompter) Choose(context.Context, string, []string) (int, error) {
	return -1, errors.New("fakePrompter: Choose not expected")
}

func (p *fakePrompter) questions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// noTTY is a Prompter with no terminal, like prompt.TTY in a daemon.
func noTTY() *fakePrompter {
	return &fakePrompter{err: prompt.ErrNoTerminal, unavailable: prompt.ErrNoTerminal}
}

// envMap is an Options.Getenv over a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// mustParse parses spec or fails the test.
func mustParse(t *testing.T, spec string, opts Options) Source {
	t.Helper()
	s, err := Parse(spec, opts)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

// needPrograms skips the test unless every one of progs is on $PATH: the keyring backend
// (for the message) cannot be tested without them, and install says how to get them.
func needPrograms(t *testing.T, install, backend string, progs ...string) {
	t.Helper()
	for _, prog := range progs {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (%s): the %s backend is not tested", prog, install, backend)
		}
	}
}

// checkStoreReplaces checks a keyring backend's round trip under opts: keyring:okta is not
// found at first (ErrNotFound, with the message notFound), then reads back what Store put
// there, and again after a second Store replaced it.
func checkStoreReplaces(ctx context.Context, t *testing.T, opts Options, notFound string) {
	t.Helper()
	_, err := mustParse(t, "keyring:okta", opts).Secret(ctx)
	if !errors.Is(err, ErrNotFound) || err.Error() != notFound {
		t.Fatalf("Secret() before Store = %v\nwant %s", err, notFound)
	}
	for _, pw := range []string{"pw-1", "pw 2 replaces it"} {
		if err := Store(ctx, "okta", pw, opts); err != nil {
			t.Fatal(err)
		}
		if got, err := mustParse(t, "keyring:okta", opts).Secret(ctx); err != nil || got != pw {
			t.Fatalf("Secret() = %q, %v; want %q", got, err, pw)
		}
	}
}
