package prompt

import (
	"errors"
	"fmt"
)

// Sentinel errors. Detail is carried by NoTerminalError and by the wrapped cause.
var (
	// ErrNoTerminal: the process has no controlling terminal to ask on.
	ErrNoTerminal = errors.New("no terminal to ask on")
	// ErrInvalidChoice: Choose got no valid option number in its attempts.
	ErrInvalidChoice = errors.New("no valid choice")
)

// NoTerminalError says what could not be asked and which setting answers it instead.
type NoTerminalError struct {
	// Question names what was to be asked, e.g. "the PIN for pkcs11:token=aws".
	Question string
	// Setting names what answers it without a terminal, e.g. "pin-source in the key URI".
	Setting string
}

// Error returns "cannot ask for <Question>: no terminal; set <Setting>".
func (e *NoTerminalError) Error() string {
	return fmt.Sprintf("cannot ask for %s: no terminal; set %s", e.Question, e.Setting)
}

// Is reports whether target is ErrNoTerminal.
func (e *NoTerminalError) Is(target error) bool { return target == ErrNoTerminal }

// Required returns a *NoTerminalError for question and setting when err is ErrNoTerminal,
// and err unchanged otherwise (nil included). Callers use it on a Prompter's error so the
// user learns which setting to add instead of only that no terminal was found.
func Required(err error, question, setting string) error {
	if errors.Is(err, ErrNoTerminal) {
		return &NoTerminalError{Question: question, Setting: setting}
	}
	return err
}
