package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/term"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/plugins"
)

// importInput is what `awskeep import` takes.
type importInput struct {
	device deviceFlags
	force  bool
}

// runImport stores an AWS secret access key as a non-extractable HMAC key. The secret
// comes from $AWS_SECRET_ACCESS_KEY, else one line of standard input (read without echo on
// a terminal); never from the command line.
func runImport(ctx context.Context, args []string, e *env) error {
	var in importInput
	fs := newFlagSet("import", e)
	in.device.bind(fs)
	fs.BoolVar(&in.force, "force", false, "replace a key that is already there")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	u, err := in.device.parseKey()
	if err != nil {
		return err
	}
	secret, err := readSecret(e)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, in.device.timeout)
	defer cancel()
	d, err := openDevice(ctx, u, in.device, e)
	if err != nil {
		return fmt.Errorf("import %s: %w", u.WithoutSecrets(), err)
	}
	defer d.Close()
	err = d.backend.ImportKey(ctx, d.key, devicekey.Material(secret), plugins.ImportOptions{Overwrite: in.force})
	if errors.Is(err, plugins.ErrKeyExists) {
		return fmt.Errorf("import %s: %w; pass --force to replace it", d.key.URI, err)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", d.key.URI, explainDevice(d, "import", err))
	}
	fmt.Fprintf(e.stdout, "imported %s\n", d.key.URI)
	return nil
}

// readSecret reads the secret access key and checks its form, without ever echoing it.
func readSecret(e *env) (string, error) {
	secret := e.getenv("AWS_SECRET_ACCESS_KEY")
	if secret == "" {
		if isTerminal(e.stdin) {
			fmt.Fprint(e.stderr, "AWS secret access key: ")
			b, err := term.ReadPassword(int(e.stdin.Fd()))
			fmt.Fprintln(e.stderr)
			if err != nil {
				return "", fmt.Errorf("read the secret from the terminal: %w", err)
			}
			secret = string(b)
		} else {
			line, err := bufio.NewReaderSize(e.stdin, 256).ReadString('\n')
			if err != nil && line == "" {
				return "", errors.New("no secret: set $AWS_SECRET_ACCESS_KEY or pass it as one line on standard input")
			}
			secret = strings.TrimRight(line, "\r\n")
		}
	}
	return secret, checkSecret(secret)
}

// checkSecret accepts what AWS issues: 40 characters of base64 (A-Z a-z 0-9 + /). Anything
// else is almost certainly a paste error, and importing it would fail only later, at STS.
func checkSecret(s string) error {
	if s == "" {
		return errors.New("the secret is empty")
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return errors.New("the secret holds characters an AWS secret access key never has (whitespace or punctuation): check what was pasted")
		}
	}
	if len(s) != 40 {
		return fmt.Errorf("the secret is %d characters long; AWS secret access keys have 40", len(s))
	}
	return nil
}
