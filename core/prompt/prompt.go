package prompt

import "context"

// Prompter asks a user. The engine takes one, so tests and later front ends can answer.
//
// A Prompter that cannot reach a user returns an error wrapping ErrNoTerminal without
// blocking. An empty answer is returned as ""; the caller decides whether it is acceptable.
type Prompter interface {
	// Secret asks question and reads an answer that is not echoed.
	Secret(ctx context.Context, question string) (string, error)
	// Line asks question and reads an answer that is echoed.
	Line(ctx context.Context, question string) (string, error)
	// Choose shows question and options numbered from 1 and returns the index (from 0) of the
	// option the user picks by number. It asks again after an invalid number, at most
	// three attempts in all, then fails with ErrInvalidChoice.
	Choose(ctx context.Context, question string, options []string) (int, error)
}

// Availability is implemented by Prompters that can tell, without asking, whether they can
// ask at all (TTY does). See CanAsk.
type Availability interface {
	Available() error
}

// CanAsk returns nil when p can ask, or the error that says why not. Prompters that do not
// implement Availability are assumed to be able to.
func CanAsk(p Prompter) error {
	if a, ok := p.(Availability); ok {
		return a.Available()
	}
	return nil
}
