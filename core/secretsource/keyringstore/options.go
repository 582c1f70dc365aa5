package keyringstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Options say which backends to use and how; they mirror secretsource.KeyringOptions, and
// OptionsFromEnv fills them from the helper's environment. The zero value reads the process
// environment and asks on /dev/tty.
type Options struct {
	// ServiceName names awskeep's part of the keyring: the keyctl keyring's name and the
	// prefix of secret-service item labels ("awskeep/okta"); default "awskeep".
	ServiceName string
	// AllowedBackends lists the backends to try in order (protocol.BackendSecretService,
	// BackendKeyctl, BackendPass, BackendFile); default $AWSKEEP_KEYRING_BACKEND, then
	// protocol.DefaultBackends.
	AllowedBackends []string
	// FileDir is the file backend's directory (created 0700), an absolute path; default
	// $XDG_DATA_HOME/awskeep/keyring, or ~/.local/share/awskeep/keyring.
	FileDir string
	// FilePassword returns the file backend's password; default $AWSKEEP_KEYRING_PASSWORD,
	// then protocol.AskFilePassword with Prompter. The request says whether Set is
	// creating the directory's first item (a typed password is then asked twice).
	FilePassword func(ctx context.Context, req protocol.PasswordRequest) (string, error)
	// PassDir is the password store; default $PASSWORD_STORE_DIR, then ~/.password-store.
	PassDir string
	// PassCmd is the pass program; default "pass".
	PassCmd string
	// PassPrefix is the folder of the store awskeep's items go to; default "awskeep".
	PassPrefix string
	// KeyctlScope is the kernel keyring that holds awskeep's named keyring: "user"
	// (default), "usersession", "session", "process" or "thread".
	KeyctlScope string
	// SecretServiceCollection is the Secret Service collection; default "login", the one a
	// desktop session unlocks at login and that exists without a prompt.
	SecretServiceCollection string
	// Getenv reads the environment; default os.Getenv. pass and gpg see the process
	// environment whatever it says.
	Getenv func(string) string
	// Prompter asks for the file password when FilePassword is nil and
	// $AWSKEEP_KEYRING_PASSWORD is unset; default prompt.TTY{}.
	Prompter prompt.Prompter
}

// OptionsFromEnv reads the protocol's Env variables through getenv (nil: os.Getenv), as the
// helper does at start. FilePassword stays nil.
func OptionsFromEnv(getenv func(string) string) Options {
	if getenv == nil {
		getenv = os.Getenv
	}
	return Options{
		ServiceName:             getenv(protocol.EnvService),
		FileDir:                 getenv(protocol.EnvFileDir),
		PassDir:                 getenv(protocol.EnvPassDir),
		PassCmd:                 getenv(protocol.EnvPassCmd),
		PassPrefix:              getenv(protocol.EnvPassPrefix),
		KeyctlScope:             getenv(protocol.EnvKeyctlScope),
		SecretServiceCollection: getenv(protocol.EnvCollection),
		Getenv:                  getenv,
	}
}

func (o Options) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

func (o Options) prompter() prompt.Prompter {
	if o.Prompter == nil {
		return prompt.TTY{}
	}
	return o.Prompter
}

// backends returns the backends to try, checked.
func (o Options) backends() ([]string, error) {
	list, from := o.AllowedBackends, "the allowed backends"
	if len(list) == 0 {
		if v := o.getenv(protocol.EnvBackend); v != "" {
			list, from = strings.Split(v, ","), "$"+protocol.EnvBackend
		}
	}
	if len(list) == 0 {
		return protocol.DefaultBackends, nil
	}
	out := make([]string, 0, len(list))
	for _, b := range list {
		b = strings.TrimSpace(b)
		if !protocol.KnownBackend(b) {
			return nil, newError(ErrNotConfigured, nil, "unknown keyring backend %q in %s: want %s, %s, %s or %s",
				b, from, protocol.BackendSecretService, protocol.BackendKeyctl, protocol.BackendPass, protocol.BackendFile)
		}
		out = append(out, b)
	}
	return out, nil
}

// fileDir is the file backend's directory.
func (o Options) fileDir() (string, error) {
	if d := o.FileDir; d != "" {
		if !filepath.IsAbs(d) {
			return "", errors.New("the keyring directory FileDir is not an absolute path")
		}
		return filepath.Clean(d), nil
	}
	if d := o.getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "awskeep", "keyring"), nil
	}
	if h := o.getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "share", "awskeep", "keyring"), nil
	}
	return "", errors.New("no directory for the keyring files: set $XDG_DATA_HOME or $HOME")
}

// passDir is the password store, read through Getenv rather than left to the library,
// which reads the process environment.
func (o Options) passDir() (string, error) {
	if d := o.PassDir; d != "" {
		return d, nil
	}
	if d := o.getenv("PASSWORD_STORE_DIR"); d != "" {
		return d, nil
	}
	if h := o.getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".password-store"), nil
	}
	return "", errors.New("no password store: set $PASSWORD_STORE_DIR or $HOME")
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
