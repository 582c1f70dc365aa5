// Package mfa gets MFA token codes for STS's SerialNumber/TokenCode parameters
// (GetSessionToken, AssumeRole) without a prompt: Run executes a profile's mfa_process
// command, as aws-vault's mfa_process does, and Valid checks a code from any source. The
// engine uses it before it falls back to asking on the terminal (core/prompt).
package mfa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNoCode: mfa_process succeeded but its standard output was not a six-digit code. The
// output itself is never repeated, since it may hold something other than a code.
var ErrNoCode = errors.New("mfa_process printed no six-digit code")

const (
	// maxStdout bounds what is read from the command's standard output; a code is 6 bytes.
	maxStdout = 4096
	// maxStderr bounds the tail of standard error kept for the error message.
	maxStderr = 4096
	// maxStderrLine bounds the stderr line quoted in an error.
	maxStderrLine = 200
	// waitDelay bounds how long Run waits for the command's pipes to close after it exits or
	// is killed, in case a stray descendant keeps them open.
	waitDelay = time.Second
)

// Shell runs mfa_process command lines.
const Shell = "/bin/sh"

// Run runs an mfa_process command (like aws-vault's mfa_process: a shell command line run
// with /bin/sh -c that prints the current code on stdout) and returns the code.
//
// env is the child's complete environment, used exactly as given; nil means an empty one.
// Nothing is inherited from this process, so secrets in it cannot leak to the command. The
// child's stdin is /dev/null, so it cannot steal the terminal from the AWS CLI that runs
// awskeep. ctx bounds the run: when it ends the command's whole process group is killed.
//
// A command that exits non-zero yields "mfa_process exited with status N: <last stderr
// line>"; one that prints anything but a six-digit code yields ErrNoCode.
func Run(ctx context.Context, command string, env []string) (string, error) {
	if strings.TrimSpace(command) == "" {
		return "", errors.New("mfa_process: empty command")
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("mfa_process: %w", err)
	}
	cmd := exec.CommandContext(ctx, Shell, "-c", command)
	// exec.Cmd inherits os.Environ() when Env is nil.
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	var stdout headBuffer
	var stderr tailBuffer
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	killGroupOnCancel(cmd)

	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", fmt.Errorf("mfa_process: %w", ctxErr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		// ErrWaitDelay: the command exited 0 but a descendant held its output open.
	case errors.As(err, &exitErr):
		return "", exitError(exitErr, stderr.lastLine())
	default:
		return "", fmt.Errorf("mfa_process: %w", err)
	}
	if stdout.overflow {
		return "", ErrNoCode
	}
	code := strings.TrimSpace(string(stdout.buf))
	if !Valid(code) {
		return "", ErrNoCode
	}
	return code, nil
}

func exitError(err *exec.ExitError, last string) error {
	var msg string
	if status := err.ExitCode(); status >= 0 {
		msg = fmt.Sprintf("mfa_process exited with status %d", status)
	} else {
		// Killed by a signal; ExitError's text names it ("signal: killed").
		msg = "mfa_process stopped by " + err.Error()
	}
	if last != "" {
		msg += ": " + last
	}
	return errors.New(msg)
}

// Valid reports whether code is a six-digit TOTP code as STS's TokenCode takes (RFC 6238 with
// the six digits the AWS API reference gives for TokenCode).
func Valid(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// headBuffer keeps the first maxStdout bytes written and notes whether there were more.
// It accepts everything so the command is not killed by SIGPIPE mid-way.
type headBuffer struct {
	buf      []byte
	overflow bool
}

func (b *headBuffer) Write(p []byte) (int, error) {
	room := maxStdout - len(b.buf)
	if len(p) > room {
		b.overflow = true
		b.buf = append(b.buf, p[:room]...)
	} else {
		b.buf = append(b.buf, p...)
	}
	return len(p), nil
}

// tailBuffer keeps the last maxStderr bytes written.
type tailBuffer struct {
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	if len(p) >= maxStderr {
		b.buf = append(b.buf[:0], p[len(p)-maxStderr:]...)
		return len(p), nil
	}
	if over := len(b.buf) + len(p) - maxStderr; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// lastLine returns the last non-blank line, cut to maxStderrLine bytes, with control
// characters shown as '?' so the line cannot drive the user's terminal.
func (b *tailBuffer) lastLine() string {
	s := bytes.TrimRightFunc(b.buf, unicode.IsSpace)
	if i := bytes.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	s = bytes.TrimSpace(s)
	if len(s) > maxStderrLine {
		// Cut before the character that straddles the limit, not inside it.
		cut := maxStderrLine
		for i := 1; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
			cut--
		}
		s = s[:cut]
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(string(s), "?"))
}
