package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// env is everything a command touches outside its arguments, so tests can run commands in
// process with their own streams and environment.
type env struct {
	stdin  *os.File
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	logger *slog.Logger
}

func newEnv() *env {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	e.logger = newLogger(e.stderr, e.getenv("AWSKEEP_LOG_LEVEL"))
	return e
}

// newLogger logs to stderr at the level $AWSKEEP_LOG_LEVEL names (default warn). Plugins'
// own log lines arrive at debug.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// command is one awskeep subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e *env) error
}

func commands() []command {
	return []command{
		{"import", "store an AWS secret access key in a device", runImport},
		{"keys describe", "show what the device says about a key (JSON)", runKeysDescribe},
		{"keys delete", "delete a key from its device", runKeysDelete},
		{"keys from-boto-patch", "yubihsm key URI for the boto patch's hsm|... string on stdin (password to a 0600 file)", runKeysFromBotoPatch},
		{"credential-process", "print temporary credentials for the AWS CLI and SDKs", runCredentialProcess},
		{"plugins list", "list installed plugins with their checksums", runPluginsList},
		{"plugins pin", "record each plugin's sha256; a changed plugin is then refused", runPluginsPin},
		{"cache clear", "remove all cached temporary credentials", runCacheClear},
		{"version", "print the version", runVersion},
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// run runs one command line and returns the exit status. On failure it prints exactly one
// line, "awskeep: <what failed>: <why>", to stderr and nothing to stdout.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			if err := c.run(ctx, args[len(words):], e); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return 0
				}
				fmt.Fprintln(e.stderr, "awskeep: "+oneLine(err.Error()))
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(e.stderr, "awskeep: unknown command %q: run awskeep help\n", strings.Join(args[:min(len(args), 2)], " "))
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "awskeep keeps AWS secret access keys in hardware and hands out short-lived credentials.")
	fmt.Fprintln(w, "\nUsage: awskeep COMMAND [flags]   (awskeep COMMAND -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-20s %s\n", c.name, c.summary)
	}
}

// oneLine keeps an error on one line, whatever a device or server put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlagSet returns a flag set whose errors become one-line usage errors.
func newFlagSet(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("awskeep "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error too; help goes to stdout only when
	// asked for (-h), so a failing command line leaves stdout empty.
	fs.Usage = func() {}
	return fs
}

// printHelp prints fs's flags to stdout, for -h.
func printHelp(fs *flag.FlagSet, e *env) {
	fmt.Fprintf(e.stdout, "Usage of %s:\n", fs.Name())
	fs.SetOutput(e.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses args and refuses stray arguments: secrets must never be passed as
// positional arguments, and a typo should not be silently ignored.
func parseFlags(fs *flag.FlagSet, args []string, e *env) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(fs, e)
			return err
		}
		return &usageError{fmt.Sprintf("%s: %v (run %s -h)", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		// The argument is not echoed: it may be a secret typed in the wrong place.
		return &usageError{fmt.Sprintf("%s: unexpected argument (%d extra); secrets are never taken from the command line", fs.Name(), fs.NArg())}
	}
	return nil
}
