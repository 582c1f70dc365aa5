package secretsource

import (
	"context"
	"errors"
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
