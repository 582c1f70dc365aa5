package secretsource

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Check tells whether src could answer Secret, for awskeep doctor, and returns what it
// found in words; the secret is never returned, printed or kept. Failures are the errors
// Secret would return, so they name the source and the fix.
//
//   - file: opens the file and applies Secret's checks (a regular file of the user's that
//     nobody else may read or write); nothing is read from it.
//   - keyring: finds the awskeep-keyring helper with its ownership and permission checks,
//     then reads the item and discards it: the helper's protocol (get and set) has no
//     command that only tests whether an item exists.
//   - conjur: resolves the settings (profile, then environment; the API key through its
//     source when one is set) and logs in; the access token is discarded and the
//     variable is not read.
//   - prompt: checks only that a terminal is there to ask on.
func Check(ctx context.Context, src Source) (string, error) {
	switch s := src.(type) {
	case *fileSource:
		return s.check(ctx)
	case *keyringSource:
		return s.check(ctx)
	case *conjurSource:
		return s.check(ctx)
	case *promptSource:
		if err := prompt.CanAsk(s.opts.prompter()); err != nil {
			return "asked on the terminal, and there is none here: the AWS CLI's credential_process has none either, so run awskeep login at a terminal first", nil
		}
		return "asked on the terminal when awskeep logs in", nil
	}
	return "", fmt.Errorf("secretsource: cannot check a %T", src)
}

// check opens the file as Secret does and reads nothing.
func (s *fileSource) check(ctx context.Context) (string, error) {
	f, err := s.open(ctx)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", newError(s.String(), nil, unwrapPath(err), "cannot inspect %s", s.path)
	}
	return fmt.Sprintf("%s is a regular file of yours, mode %04o (not read)", s.path, fi.Mode().Perm()), nil
}

// check finds the helper, then reads the item and discards it.
func (s *keyringSource) check(ctx context.Context) (string, error) {
	helper, err := findHelper(s.opts.Keyring.Helper)
	if err != nil {
		return "", withSource(err, s.String())
	}
	out, err := runHelper(ctx, s.String(), protocol.CmdGet, s.name, nil, s.opts)
	clear(out)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("the keyring helper %s is trusted (only root or you can write it) and the keyring holds item %q "+
		"(read and discarded: the helper has no command that only tests for an item)", helper, s.name), nil
}

// check resolves the settings and logs in; the token is discarded, the variable not read.
func (s *conjurSource) check(ctx context.Context) (string, error) {
	var cfg conjurConfig
	err := s.login(ctx, func(c conjurConfig, _ *http.Client, _ []byte) error {
		cfg = c
		return nil
	})
	if err != nil {
		return "", err
	}
	o := s.opts.Conjur
	from := make([]string, 0, 4)
	for _, f := range []struct{ what, env string }{
		{"URL", EnvConjurApplianceURL}, {"account", EnvConjurAccount}, {"login", EnvConjurAuthnLogin}, {"API key", EnvConjurAuthnAPIKey},
	} {
		from = append(from, f.what+" from "+o.from(f.env))
	}
	return fmt.Sprintf("Conjur at %s accepted the login %q of account %q (%s); variable %q not read",
		cfg.host, cfg.login, cfg.account, strings.Join(from, ", "), s.variable), nil
}
