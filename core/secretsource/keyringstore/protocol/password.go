package protocol

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/awskeep/awskeep/core/prompt"
)

// PasswordRequest is the helper asking awskeep for the file backend's password.
type PasswordRequest struct {
	// Dir is the file backend's directory, for the question.
	Dir string `json:"dir"`
	// Confirm is set when set is about to create the directory's first item: a password
	// typed at a terminal is asked twice, since nothing else would catch a typo.
	Confirm bool `json:"confirm,omitempty"`
}

// PasswordAnswer is awskeep's answer: the password, or why there is none.
type PasswordAnswer struct {
	Password string `json:"password,omitempty"`
	// Error says why there is no password, e.g. "cannot ask for ...: no terminal".
	Error string `json:"error,omitempty"`
}

// maxMessage bounds one JSON line: a password, escaped, or a message.
const maxMessage = 8 * MaxSecret

// AskParent is the helper's side of the exchange: a file password function that writes
// each request to w and reads the answer from r (the descriptors OpenAskFDs opens). An
// answer with an Error becomes an error with that text.
func AskParent(w io.Writer, r io.Reader) func(context.Context, PasswordRequest) (string, error) {
	br := bufio.NewReaderSize(r, maxMessage)
	var mu sync.Mutex
	return func(_ context.Context, req PasswordRequest) (string, error) {
		// The caller bounds the wait with its context (keyringstore abandons the call).
		mu.Lock()
		defer mu.Unlock()
		if err := writeMessage(w, req); err != nil {
			return "", fmt.Errorf("ask awskeep for the keyring password: %w", err)
		}
		var ans PasswordAnswer
		if err := readMessage(br, &ans); err != nil {
			if errors.Is(err, io.EOF) {
				return "", errors.New("awskeep did not answer the request for the keyring password")
			}
			return "", err
		}
		if ans.Error != "" {
			return "", errors.New(ans.Error)
		}
		return ans.Password, nil
	}
}

// ServePasswords is awskeep's side of the exchange: it reads requests from r until r ends
// or fails, and writes answer's reply to each to w (its error's text when it fails).
// answer should return when ctx ends; ServePasswords then stops.
func ServePasswords(ctx context.Context, r io.Reader, w io.Writer, answer func(context.Context, PasswordRequest) (string, error)) {
	br := bufio.NewReaderSize(r, maxMessage)
	for ctx.Err() == nil {
		var req PasswordRequest
		if err := readMessage(br, &req); err != nil {
			return
		}
		var ans PasswordAnswer
		pw, err := answer(ctx, req)
		if err != nil {
			ans.Error = err.Error()
		} else {
			ans.Password = pw
		}
		if err := writeMessage(w, ans); err != nil {
			return
		}
	}
}

// writeMessage writes v as one JSON line.
func writeMessage(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	defer clear(b)
	_, err = w.Write(b)
	return err
}

// readMessage reads one JSON line into v; a line longer than r's buffer is an error.
func readMessage(r *bufio.Reader, v any) error {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return fmt.Errorf("keyring protocol: message longer than %d bytes", maxMessage)
	case err != nil:
		return err
	}
	defer clear(line)
	if err := json.Unmarshal(line, v); err != nil {
		// Not quoted: the line may hold a password.
		return errors.New("keyring protocol: malformed message")
	}
	return nil
}

// AskFilePassword asks p for the file backend's password of req.Dir, twice when
// req.Confirm. Both sides use it: awskeep with its Prompter, the helper run by hand with
// the terminal. With no terminal the error is a *prompt.NoTerminalError naming
// $AWSKEEP_KEYRING_PASSWORD; an empty answer is ErrNoPassword.
func AskFilePassword(ctx context.Context, p prompt.Prompter, req PasswordRequest) (string, error) {
	question := "the password of the awskeep keyring files in " + req.Dir
	setting := "$" + EnvPassword
	if err := prompt.CanAsk(p); err != nil {
		return "", prompt.Required(err, question, setting)
	}
	v, err := p.Secret(ctx, "Password of the awskeep keyring files in "+req.Dir+": ")
	if err != nil {
		return "", prompt.Required(err, question, setting)
	}
	if v == "" {
		return "", ErrNoPassword
	}
	if req.Confirm {
		again, err := p.Secret(ctx, "Again, to confirm: ")
		if err != nil {
			return "", prompt.Required(err, question, setting)
		}
		if again != v {
			return "", errors.New("the two keyring passwords differ: nothing stored")
		}
	}
	return v, nil
}
