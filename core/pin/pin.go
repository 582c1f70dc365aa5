// Package pin finds the PIN or password for a key URI, in the order DESIGN.md gives:
// the URI's pin-source, the URI's pin-value, $AWSKEEP_PIN, then a prompt on the controlling
// terminal (/dev/tty, never stderr: the AWS CLI and boto3 capture a credential_process's
// stderr). It never reads a PIN from other command-line arguments, never echoes one, and
// never puts one in an error. With no source and no terminal it fails at once, naming the
// settings that would have answered. The host asks it only for keys that need a PIN
// (core/devicekey.NeedsPIN: the plugin declares plugins.CapabilityPIN, or the URI names a
// PIN), so a key of a backend without PINs never causes a prompt.
package pin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// EnvVar is the environment variable that may hold the PIN.
const EnvVar = "AWSKEEP_PIN"

// Setting names what answers the PIN prompt when there is no terminal.
const Setting = "pin-source in the key URI (pin-source=file:/path, a 0600 file) or $" + EnvVar

// maxPINFile bounds what is read from a pin-source file.
const maxPINFile = 4096

// Options configure Resolve.
type Options struct {
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Prompter asks for the PIN when no other source gives one; default prompt.TTY{}, the
	// controlling terminal. Nil-valued NoPrompt disables asking.
	Prompter prompt.Prompter
	// NoPrompt fails instead of asking (for commands whose terminal is not the user's).
	NoPrompt bool
	// Label names the key in the prompt; default the URI without secrets.
	Label string
}

// Resolve returns the PIN for u. A key that has no PIN says so with an empty pin-value
// (pin-value= in the URI); otherwise a PIN must come from one of the sources.
func Resolve(ctx context.Context, u *keyuri.URI, optFns ...func(*Options)) (string, error) {
	opts := Options{Getenv: os.Getenv, Prompter: prompt.TTY{}, Label: u.WithoutSecrets().String()}
	for _, fn := range optFns {
		fn(&opts)
	}
	if src, ok := u.QueryAttr(keyuri.PINSource); ok {
		return FromSource(src)
	}
	if v, ok := u.QueryAttr(keyuri.PINValue); ok {
		return v, nil
	}
	if v := opts.Getenv(EnvVar); v != "" {
		return v, nil
	}
	question := "PIN for " + opts.Label
	if opts.NoPrompt || opts.Prompter == nil {
		return "", &prompt.NoTerminalError{Question: question, Setting: Setting}
	}
	v, err := opts.Prompter.Secret(ctx, question+": ")
	if err != nil {
		return "", prompt.Required(err, question, Setting)
	}
	if v == "" {
		return "", errors.New("no PIN entered; for a key without a PIN put pin-value= (empty) in its URI")
	}
	return v, nil
}

// FromSource reads a PIN from a pin-source: a file path or a file: URI (RFC 7512 section
// 2.3 leaves the form to the application; RFC 8089 file URIs and plain paths are taken).
// The file must be a regular file that only its owner can read or write; one trailing
// newline is removed.
func FromSource(src string) (string, error) {
	path := src
	if strings.HasPrefix(src, "file:") {
		u, err := url.Parse(src)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return "", fmt.Errorf("pin-source %q: want file:/path or a path", src)
		}
		path = u.Path
	} else if strings.Contains(src, ":") && !strings.HasPrefix(src, "/") && !strings.HasPrefix(src, ".") {
		return "", fmt.Errorf("pin-source %q: only files are supported (file:/path or a path)", src)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("pin-source file %s does not exist", path)
		}
		return "", fmt.Errorf("pin-source: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("pin-source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("pin-source %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("pin-source %s is open to other users (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPINFile+1))
	if err != nil {
		return "", fmt.Errorf("pin-source %s: %w", path, err)
	}
	if len(data) > maxPINFile {
		return "", fmt.Errorf("pin-source %s is larger than %d bytes: is it the right file?", path, maxPINFile)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("pin-source %s is empty", path)
	}
	return s, nil
}
