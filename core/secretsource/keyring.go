package secretsource

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Environment variables for the keyring.
const (
	// EnvKeyringPassword holds the password of the file backend's encrypted files. Without
	// it (and without KeyringOptions.FilePassword) the password is asked on the terminal.
	EnvKeyringPassword = protocol.EnvPassword
	// EnvKeyringBackend lists the backends to try, comma-separated, when
	// KeyringOptions.AllowedBackends is empty, e.g. "file" or "secret-service,pass".
	EnvKeyringBackend = protocol.EnvBackend
)

// The keyring backends, named as github.com/99designs/keyring names them.
const (
	// BackendSecretService is the freedesktop Secret Service on the D-Bus session bus
	// (GNOME Keyring and others). Items go to KeyringOptions.SecretServiceCollection,
	// "login" by default: the collection a desktop session unlocks at login, and one
	// that exists without a prompt. Creating another collection needs a GUI prompt.
	BackendSecretService = protocol.BackendSecretService
	// BackendKeyctl is the Linux kernel key retention service: a keyring named
	// ServiceName under KeyringOptions.KeyctlScope ("user" by default). Items live in
	// kernel memory only and are gone after a reboot, so it is never a default.
	BackendKeyctl = protocol.BackendKeyctl
	// BackendPass is pass(1), the GnuPG-encrypted password store, under
	// KeyringOptions.PassPrefix ("awskeep"). What pass and gpg print reaches awskeep's
	// stderr, and gpg may ask for its passphrase through its own pinentry.
	BackendPass = protocol.BackendPass
	// BackendFile is one JWE file per item (PBES2-HS256+A128KW, A256GCM) in
	// KeyringOptions.FileDir, encrypted with a password from KeyringOptions.FilePassword,
	// $AWSKEEP_KEYRING_PASSWORD or the terminal. Always available, so it comes last.
	BackendFile = protocol.BackendFile
)

// KeyringOptions say which keyring backends to use and how. Store and Secret use the first
// backend of the list that is available here, so both find the same one.
type KeyringOptions struct {
	// ServiceName names awskeep's part of the keyring: the keyctl keyring's name and the
	// prefix of secret-service item labels ("awskeep/okta"); default "awskeep".
	ServiceName string
	// AllowedBackends lists the backends to try in order (BackendSecretService,
	// BackendKeyctl, BackendPass, BackendFile); default $AWSKEEP_KEYRING_BACKEND, then
	// secret-service, pass, file.
	AllowedBackends []string
	// FileDir is the file backend's directory (created 0700); default
	// $XDG_DATA_HOME/awskeep/keyring, or ~/.local/share/awskeep/keyring.
	FileDir string
	// FilePassword returns the file backend's password; default
	// $AWSKEEP_KEYRING_PASSWORD, then a prompt on the terminal (twice when Store creates
	// the first item, once otherwise).
	FilePassword func(ctx context.Context) (string, error)
	// PassDir is the password store; default $PASSWORD_STORE_DIR, then ~/.password-store.
	PassDir string
	// PassCmd is the pass program; default "pass".
	PassCmd string
	// PassPrefix is the folder of the store awskeep's items go to; default "awskeep".
	PassPrefix string
	// KeyctlScope is the kernel keyring that holds awskeep's named keyring: "user"
	// (default), "usersession", "session", "process" or "thread".
	KeyctlScope string
	// SecretServiceCollection is the Secret Service collection; default "login".
	SecretServiceCollection string
	// Helper is the awskeep-keyring program, which does the keyring work in a process of
	// its own (see the package comment); default awskeep-keyring in the directory of the
	// running executable (symlinks resolved), then on $PATH. It must be a regular,
	// executable file that only its owner (root or this user) can write, in directories
	// only they can write.
	Helper string
}

// backends returns the backends to try, checked.
func (k KeyringOptions) backends(opts Options) ([]string, error) {
	list, from := k.AllowedBackends, "KeyringOptions.AllowedBackends"
	if len(list) == 0 {
		if v := opts.getenv(EnvKeyringBackend); v != "" {
			list, from = strings.Split(v, ","), "$"+EnvKeyringBackend
		}
	}
	if len(list) == 0 {
		return protocol.DefaultBackends, nil
	}
	out := make([]string, 0, len(list))
	for _, b := range list {
		b = strings.TrimSpace(b)
		if !protocol.KnownBackend(b) {
			return nil, newError("", ErrNotConfigured, nil, "unknown keyring backend %q in %s: want %s, %s, %s or %s",
				b, from, BackendSecretService, BackendKeyctl, BackendPass, BackendFile)
		}
		out = append(out, b)
	}
	return out, nil
}

// keyringSource reads one item.
type keyringSource struct {
	name string
	opts Options
}

func (s *keyringSource) String() string       { return KindKeyring + ":" + s.name }
func (s *keyringSource) GoString() string     { return goString(s) }
func (s *keyringSource) LogValue() slog.Value { return logValue(s) }

// Secret reads the item from the first available backend, through awskeep-keyring.
func (s *keyringSource) Secret(ctx context.Context) (string, error) {
	out, err := runHelper(ctx, s.String(), protocol.CmdGet, s.name, nil, s.opts)
	if err != nil {
		return "", err
	}
	defer clear(out)
	return string(out), nil
}

// Store puts secret into the keyring as item keyringName (the NAME of keyring:NAME), in the
// first available backend, replacing an item of that name. It is what `awskeep saml
// store-password` calls; the command asks for the secret itself. The work is done by the
// awskeep-keyring helper (KeyringOptions.Helper), which gets the secret on its stdin.
//
// With the file backend, a password that does not open the items already in the
// directory is refused (ErrUnauthorized) rather than leaving items under two passwords,
// and the first item's password is asked twice when it comes from the terminal.
//
// The secret is one line of at most 64 KiB: one holding a line break is refused.
func Store(ctx context.Context, keyringName, secret string, opts Options) error {
	if err := checkKeyringName(keyringName); err != nil {
		return &SpecError{Spec: KindKeyring + ":" + keyringName, Reason: err.Error()}
	}
	src := KindKeyring + ":" + keyringName
	switch {
	case secret == "":
		return newError(src, ErrEmpty, nil, "nothing to store: the secret is empty")
	case strings.ContainsAny(secret, "\r\n"):
		return newError(src, nil, nil, "nothing stored: the secret holds a line break")
	case len(secret) > protocol.MaxSecret:
		return newError(src, nil, nil, "nothing stored: the secret is longer than %d KiB", protocol.MaxSecret>>10)
	}
	// The helper reads one line.
	stdin := make([]byte, 0, len(secret)+1)
	stdin = append(append(stdin, secret...), '\n')
	defer clear(stdin)
	_, err := runHelper(ctx, src, protocol.CmdSet, keyringName, stdin, opts)
	return err
}

// withSource sets the Source of an *Error that has none.
func withSource(err error, src string) error {
	var e *Error
	if errors.As(err, &e) && e.Source == "" {
		c := *e
		c.Source = src
		return &c
	}
	return err
}
