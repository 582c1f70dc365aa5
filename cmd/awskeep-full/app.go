package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// env is everything a command touches outside its arguments, so tests can run commands in
// process with their own streams and environment.
type env struct {
	stdin   *os.File
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	environ func() []string
	now     func() time.Time
	logger  *slog.Logger
	// args is the command line run was given (without the program name).
	args []string
	// routeLock is the front's turn for this invocation (see main), released once
	// credential-process has answered, or when the process ends.
	routeLock *os.File
}

// lookupEnv is os.LookupEnv over e.environ.
func (e *env) lookupEnv(name string) (string, bool) {
	for _, kv := range e.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func newEnv() *env {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ, now: time.Now}
	e.logger = newLogger(e.stderr, e.getenv("AWSKEEP_LOG_LEVEL"))
	return e
}

// newLogger logs to stderr at level (debug, info, warn, error; default warn). Plugins' own
// log lines arrive at debug. Secrets are never logged.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// usageError is a mistake in the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError ends awskeep with a status of its own choosing and no message (exec passes on
// its child's status).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Exit statuses (DESIGN.md, "Command line").
const (
	exitFailure = 1
	exitUsage   = 2
)

// run runs one command line and returns the exit status. On failure it prints exactly one
// line, "awskeep: <what failed>: <why>", to stderr and nothing to stdout.
func run(ctx context.Context, args []string, e *env) int {
	e.args = args
	root := newRootCommand(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	fmt.Fprintln(e.stderr, "awskeep: "+capLine(oneLine(err.Error())))
	var usage *usageError
	if errors.As(err, &usage) || isCobraUsageError(err) {
		return exitUsage
	}
	return exitFailure
}

// cobraUsage starts the errors cobra itself returns for a bad command line (it has no error
// types for them).
var cobraUsage = []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument",
	"flag needs an argument", "bad flag syntax", "required flag", "accepts ", "requires at least", "invalid choice"}

func isCobraUsageError(err error) bool {
	for _, prefix := range cobraUsage {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}

// maxErrorLine bounds the error line: a device or server can put anything in an error (a
// 100 KB label), and one screen line is what a user reads.
const maxErrorLine = 1024

// capLine cuts s to maxErrorLine bytes, at a character boundary, and says so.
func capLine(s string) string {
	if len(s) <= maxErrorLine {
		return s
	}
	cut := maxErrorLine
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes cut)", len(s)-cut)
}

// oneLine keeps an error on one line, whatever a device or server put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// noArgs refuses positional arguments without echoing them: a secret typed in the wrong
// place must not reach a terminal's scrollback or a log.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument (%d extra); secrets are never taken from the command line", cmd.CommandPath(), len(args))
	}
	return nil
}

// commandWord reports whether s may be echoed back as a mistyped command name: a short
// lower-case word, never something that could be a secret typed in the wrong place.
func commandWord(s string) bool {
	if len(s) == 0 || len(s) > 31 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// subcommandsOnly is the Args of a command that only groups subcommands: bare, it prints
// its help; with an unknown word, it is a usage error.
func subcommandsOnly(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	name := "(not shown)"
	if commandWord(args[0]) {
		name = fmt.Sprintf("%q", args[0])
	}
	return usagef("unknown command %s for %s: run %s --help", name, cmd.CommandPath(), cmd.CommandPath())
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }
