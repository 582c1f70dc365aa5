package secretsource

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// Source yields one secret (an IdP password) when asked. Sources are safe for concurrent
// use and hold no connection between calls.
type Source interface {
	// Secret fetches the secret. Every call goes to the source again (a new Conjur login,
	// a new keyring read, a new prompt); callers keep the answer as long as they need it.
	Secret(ctx context.Context) (string, error)
	// String names the source as Parse accepts it back: "conjur:prod/okta/password",
	// "keyring:okta", "file:/run/x", "prompt". Never the secret.
	String() string
}

// Options configure Parse and Store. The zero value reads the process environment and
// asks on /dev/tty.
type Options struct {
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Prompter asks for the secret (prompt) and for the keyring file password; default
	// prompt.TTY{}, the controlling terminal.
	Prompter prompt.Prompter
	// Question names what prompt asks for, e.g. "Okta password for alice"; default
	// "the password".
	Question string
	// Setting names what answers instead of the prompt, for the error a missing terminal
	// gives, e.g. "awskeep_saml_password_source in [profile P]"; default
	// "awskeep_saml_password_source".
	Setting string
	// Profile names the AWS config profile, for the hint a missing keyring item gives
	// ("store it with awskeep saml store-password --profile P"); "" prints PROFILE.
	Profile string
	// StoreHint says how to put a missing keyring item in place, for the error that
	// reports it; default "store it with awskeep saml store-password --profile PROFILE",
	// which stores the IdP password. ParseConjurAPIKeySource sets its own.
	StoreHint string
	// HTTPClient is the client for Conjur; default one with a 30-second timeout and the
	// proxy settings of the environment. Redirects are never followed (a redirected
	// authenticate request would carry the API key elsewhere).
	HTTPClient *http.Client
	// Conjur is where Conjur is and who logs in; unset fields come from the environment.
	Conjur ConjurOptions
	// Keyring is which keyring backends to use and how.
	Keyring KeyringOptions
}

// Default values of Options.
const (
	DefaultQuestion = "the password"
	DefaultSetting  = "awskeep_saml_password_source"
)

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

func (o Options) question() string {
	if o.Question == "" {
		return DefaultQuestion
	}
	return o.Question
}

func (o Options) setting() string {
	if o.Setting == "" {
		return DefaultSetting
	}
	return o.Setting
}

func (o Options) profile() string {
	if o.Profile == "" {
		return "PROFILE"
	}
	return o.Profile
}

func (o Options) storeHint() string {
	if o.StoreHint == "" {
		return "store it with awskeep saml store-password --profile " + o.profile()
	}
	return o.StoreHint
}

// The kinds of source, as the setting spells them.
const (
	KindConjur  = "conjur"
	KindKeyring = "keyring"
	KindFile    = "file"
	KindPrompt  = "prompt"
)

// maxSpec bounds a setting; Conjur ids and paths are far shorter.
const maxSpec = 4096

// Parse reads a secret source setting: conjur:VARIABLE, keyring:NAME, file:PATH or prompt.
// The kind is case-insensitive; spaces around the whole setting are ignored.
//
//   - conjur:VARIABLE names a Conjur variable id as written in policy, e.g.
//     conjur:prod/okta/password (not "account:variable:id").
//   - keyring:NAME names a keyring item: 1 to 128 letters, digits and . _ - @ +, not
//     starting with a dot (no slash, so a pass store or keyring directory is never left).
//   - file:PATH names an absolute path; file:~/x is taken from $HOME, and the RFC 8089
//     forms file:///x and file://localhost/x are accepted. The path is used literally
//     (no percent-decoding).
//   - prompt takes no argument.
//
// Parse checks the form only (see the package comment); errors are *SpecError and wrap
// ErrInvalidSpec. For keyring:, the backends named in Options.Keyring or
// $AWSKEEP_KEYRING_BACKEND are checked too (an *Error wrapping ErrNotConfigured).
func Parse(spec string, opts Options) (Source, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, &SpecError{Reason: "empty"}
	}
	if len(s) > maxSpec || !utf8.ValidString(s) {
		return nil, &SpecError{Reason: "not one of the accepted forms (the value is not repeated here in case it is the password itself)"}
	}
	kind, arg, hasArg := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	if !hasArg && (kind == KindConjur || kind == KindKeyring || kind == KindFile) {
		return nil, &SpecError{Spec: kind, Reason: kind + " needs an argument after a colon"}
	}
	switch kind {
	case KindPrompt:
		if hasArg {
			return nil, &SpecError{Spec: KindPrompt + ":", Reason: "prompt takes no argument: write just prompt"}
		}
		return &promptSource{opts: opts}, nil
	case KindConjur:
		if err := checkConjurVariable(arg); err != nil {
			return nil, &SpecError{Spec: KindConjur + ":" + arg, Reason: err.Error()}
		}
		return &conjurSource{variable: arg, opts: opts}, nil
	case KindKeyring:
		if err := checkKeyringName(arg); err != nil {
			return nil, &SpecError{Spec: KindKeyring + ":" + arg, Reason: err.Error()}
		}
		if _, err := opts.Keyring.backends(opts); err != nil {
			return nil, withSource(err, KindKeyring+":"+arg)
		}
		return &keyringSource{name: arg, opts: opts}, nil
	case KindFile:
		path, err := filePath(arg, opts)
		if err != nil {
			return nil, &SpecError{Spec: KindFile + ":" + arg, Reason: err.Error()}
		}
		return &fileSource{path: path, opts: opts}, nil
	}
	return nil, &SpecError{Reason: "not one of the accepted forms (the value is not repeated here in case it is the password itself)"}
}

// reason is an error text for a SpecError.
type reason string

func (r reason) Error() string { return string(r) }

// checkConjurVariable accepts a Conjur variable id: printable, not "." or "..", which a
// proxy could resolve as path segments even escaped.
func checkConjurVariable(id string) error {
	switch {
	case id == "":
		return reason("empty variable id")
	case id == "." || id == "..":
		return reason("not a variable id")
	case strings.TrimSpace(id) != id:
		return reason("variable id starts or ends with a space")
	case !printable(id):
		return reason("variable id holds control characters")
	}
	return nil
}

// checkKeyringName accepts 1 to 128 of [A-Za-z0-9._@+-], not starting with a dot
// (protocol.CheckName). The pass backend joins the name into a path and the file backend
// into a file name; this keeps both inside their directory.
func checkKeyringName(name string) error { return protocol.CheckName(name) }

// filePath turns a file: argument into a clean absolute path.
func filePath(arg string, opts Options) (string, error) {
	p := arg
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		// RFC 8089: file://host/path; only the local host is meaningful here.
		host, path, _ := strings.Cut(rest, "/")
		if host != "" && !strings.EqualFold(host, "localhost") {
			return "", reason("file URI names another host")
		}
		p = "/" + path
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home := opts.getenv("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return "", reason("~/ needs $HOME, an absolute path")
		}
		p = filepath.Join(home, rest)
	}
	switch {
	case p == "":
		return "", reason("empty path")
	case !printable(p):
		return "", reason("path holds control characters")
	case !filepath.IsAbs(p):
		return "", reason("path is not absolute (write file:/path or file:~/path)")
	}
	p = filepath.Clean(p)
	if strings.TrimSpace(p) != p {
		// Parse trims the setting, so such a path would not read back.
		return "", reason("path ends with a space")
	}
	return p, nil
}

// printable reports whether s has no control characters.
func printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// stringer gives a Source its GoString and LogValue from its String, so that %#v and
// slog print the name and never the options (which may hold the Conjur API key).
type stringer interface{ String() string }

func goString(s stringer) string { return "secretsource.Source(" + s.String() + ")" }

func logValue(s stringer) slog.Value { return slog.StringValue(s.String()) }
