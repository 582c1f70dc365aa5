package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// deviceFlags are the flags every command that reaches a device shares.
type deviceFlags struct {
	key       string
	pluginDir string
	timeout   time.Duration
}

func (d *deviceFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&d.key, "key", "", "key URI, e.g. pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin (required)")
	fs.StringVar(&d.pluginDir, "plugin-dir", "", "directory searched first for awskeep-plugin-* binaries")
	fs.DurationVar(&d.timeout, "timeout", 30*time.Second, "bound on the whole command: plugin start, device and network")
}

// parseKey parses and checks --key.
func (d *deviceFlags) parseKey() (*keyuri.URI, error) {
	if d.key == "" {
		return nil, &usageError{"--key is required (a key URI such as pkcs11:token=aws;object=prod)"}
	}
	u, err := keyuri.Parse(d.key)
	if err != nil {
		return nil, fmt.Errorf("key URI: %w", err)
	}
	return u, nil
}

func (d *deviceFlags) hostOptions(e *env) pluginhost.Options {
	return pluginhost.Options{Dir: d.pluginDir, Getenv: e.getenv, PinFile: pinFile(e)}
}

// pinFile is where `awskeep plugins pin` records checksums: $XDG_CONFIG_HOME/awskeep/plugins.sha256.
func pinFile(e *env) string {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "awskeep", "plugins.sha256")
}

// device is a key and the running plugin that holds it.
type device struct {
	backend plugins.Backend
	key     plugins.Key
	plugin  *plugins.Plugin
	info    plugins.Info
}

func (d *device) Close() { d.plugin.Close() }

// openDevice resolves the PIN for u and starts its plugin.
func openDevice(ctx context.Context, u *keyuri.URI, flags deviceFlags, e *env) (*device, error) {
	secret, err := pin.Resolve(u, func(o *pin.Options) { o.Getenv = e.getenv; o.Prompt = e.stderr })
	if err != nil {
		return nil, fmt.Errorf("PIN: %w", err)
	}
	p, info, err := pluginhost.Start(ctx, u.Scheme, e.logger, flags.hostOptions(e))
	if err != nil {
		return nil, err
	}
	return &device{
		backend: p, plugin: p, info: info,
		key: plugins.Key{URI: u.WithoutSecrets().String(), PIN: secret},
	}, nil
}

// explainDevice adds what a user can do to the contract's errors, and names a crashed
// plugin with its signal.
func explainDevice(d *device, op string, err error) error {
	if d != nil && errors.Is(err, plugins.ErrPluginUnavailable) {
		if reason := pluginhost.CrashReason(d.plugin); reason != "" {
			return fmt.Errorf("plugin %s crashed (%s) during %s", d.plugin.Name(), reason, op)
		}
	}
	switch {
	case errors.Is(err, plugins.ErrPINIncorrect) && !strings.Contains(err.Error(), "retried"):
		return fmt.Errorf("%w (not retried: devices lock after repeated failures; check pin-source or $%s)", err, pin.EnvVar)
	case errors.Is(err, plugins.ErrPINLocked) && !strings.Contains(err.Error(), "retried"):
		return fmt.Errorf("%w (not retried: each failure counts against the device)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: timed out (raise --timeout if the device is slow): %w", op, err)
	}
	return err
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
