package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins"
)

// maxSecretInput bounds what import reads from standard input: one 40-character line.
const maxSecretInput = 4096

func newImportCommand(e *env) *cobra.Command {
	var k keyFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "import (--key URI | --profile NAME) [--force]",
		Short: "Store an AWS secret access key in a device",
		Long: `Store an AWS secret access key in a device as a non-extractable, sign-only HMAC key
("AWS4" followed by the secret). The secret comes from $AWS_SECRET_ACCESS_KEY, else one line
of standard input, else a prompt on the terminal without echo; never from the command line.
An existing key is replaced only with --force.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := k.uri(e)
			if err != nil {
				return err
			}
			secret, err := readSecret(cmd.Context(), e)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			return k.withDevice(cmd.Context(), e, "import", func(ctx context.Context, d *devicekey.Device) error {
				err := d.Backend.ImportKey(ctx, d.Key, devicekey.Material(secret), plugins.ImportOptions{Overwrite: force})
				if errors.Is(err, plugins.ErrKeyExists) {
					return fmt.Errorf("import %s: %w; pass --force to replace it", d.Key.URI, err)
				}
				if err != nil {
					return fmt.Errorf("import %s: %w", u.WithoutSecrets(), d.Explain("import", err))
				}
				_, err = fmt.Fprintf(e.stdout, "imported %s\n", d.Key.URI)
				return err
			})
		},
	}
	k.bind(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "replace a key that is already there")
	return cmd
}

// readSecret reads the secret access key and checks its form, without ever echoing it.
func readSecret(ctx context.Context, e *env) (string, error) {
	secret := e.getenv("AWS_SECRET_ACCESS_KEY")
	if secret == "" {
		if isTerminal(e.stdin) {
			v, err := prompt.TTY{}.Secret(ctx, "AWS secret access key: ")
			if err != nil {
				return "", fmt.Errorf("read the secret from the terminal: %w", err)
			}
			secret = v
		} else {
			line, err := bufio.NewReader(io.LimitReader(e.stdin, maxSecretInput)).ReadString('\n')
			if err != nil && line == "" {
				return "", errors.New("no secret: set $AWS_SECRET_ACCESS_KEY or pass it as one line on standard input")
			}
			if err != nil && len(line) >= maxSecretInput {
				return "", fmt.Errorf("standard input holds more than %d bytes before a newline: an AWS secret access key is one 40-character line", maxSecretInput)
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
