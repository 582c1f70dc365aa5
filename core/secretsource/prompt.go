package secretsource

import (
	"context"
	"log/slog"

	"github.com/awskeep/awskeep/core/prompt"
)

// promptSource asks the user on the terminal through Options.Prompter.
type promptSource struct {
	opts Options
}

func (s *promptSource) String() string       { return KindPrompt }
func (s *promptSource) GoString() string     { return goString(s) }
func (s *promptSource) LogValue() slog.Value { return logValue(s) }

// Secret asks Options.Question without echo. With no terminal it fails at once with a
// *prompt.NoTerminalError naming Options.Setting; an empty answer is ErrEmpty (a wrong
// password is never retried, so an empty one is not sent to the IdP either).
func (s *promptSource) Secret(ctx context.Context) (string, error) {
	q, setting := s.opts.question(), s.opts.setting()
	p := s.opts.prompter()
	if err := prompt.CanAsk(p); err != nil {
		return "", newError(KindPrompt, nil, prompt.Required(err, q, setting), "")
	}
	v, err := p.Secret(ctx, q+": ")
	if err != nil {
		return "", newError(KindPrompt, nil, prompt.Required(err, q, setting), "")
	}
	if v == "" {
		return "", newError(KindPrompt, ErrEmpty, nil, "nothing entered for %s", q)
	}
	return v, nil
}
