package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
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
					return fmt.Errorf("import %s: %w", u.WithoutSecrets(), explainImport(d, err, k.describeCommand(u)))
				}
				if slices.Contains(d.Info.Capabilities, plugins.CapabilitySoftwareWrapped) {
					// Said once, where the choice is made (plugins.CapabilitySoftwareWrapped).
					e.logger.Warn("the key is software-wrapped, not kept in a device: the plugin decrypts it into its memory, " +
						"and anyone with the key file and the right to decrypt with its wrapping key can recover the secret")
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

// explainImport explains a failed import. When the import was cut off (the deadline, an
// interrupt, a plugin that crashed or stopped answering), the device may have stored the
// key or not, and with --force may hold the old key or the new one: the error says so and
// names the command that shows what is there, instead of implying that nothing happened.
func explainImport(d *devicekey.Device, err error, check string) error {
	var what string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what = "the device did not answer in time (raise --timeout if it is slow)"
	case errors.Is(err, context.Canceled):
		what = "the import was interrupted"
	case errors.Is(err, plugins.ErrPluginUnavailable):
		explained := d.Explain("import", err) // names the crash; keeps its class
		return &uncertainImport{what: explained.Error(), check: check, err: explained}
	default:
		return d.Explain("import", err)
	}
	return creds.Wrap(creds.ClassDevice, "", &uncertainImport{what: what, check: check, err: err})
}

// uncertainImport is an import that was cut off: the device's state is not known.
type uncertainImport struct {
	what  string // what happened
	check string // the command that shows the key
	err   error
}

func (e *uncertainImport) Error() string {
	return e.what + ": it may or may not hold the new key; check with " + e.check
}

func (e *uncertainImport) Unwrap() error { return e.err }

// describeCommand is the keys describe command line for the key the user named: the same
// profile, or the URI without a pin-value (a pin-source stays: it is where the PIN comes
// from, not the PIN).
func (k *keyFlags) describeCommand(u *keyuri.URI) string {
	if k.key == "" && k.profile != "" {
		return "awskeep keys describe --profile " + shellQuote(k.profile)
	}
	return "awskeep keys describe --key " + shellQuote(u.String())
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
