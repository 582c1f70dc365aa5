package devicekey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// OpenOptions say how to reach a key's device.
type OpenOptions struct {
	// Host says where plugins are and how they are checked.
	Host pluginhost.Options
	// Logger receives the plugin's own log lines at debug level; nil discards them.
	Logger *slog.Logger
	// Getenv reads $AWSKEEP_PIN; default Host.Getenv, then os.Getenv.
	Getenv func(string) string
	// Prompter asks for a PIN that no other source gives; default the controlling terminal.
	Prompter prompt.Prompter
	// NoPrompt fails instead of asking for a PIN.
	NoPrompt bool
}

// Device is a key and the running plugin that holds it. Close ends the plugin.
type Device struct {
	// Backend is the plugin, speaking the contract.
	Backend plugins.Backend
	// Key names the key, without secrets in its URI, with the resolved PIN.
	Key plugins.Key
	// Info is what the plugin said about itself.
	Info plugins.Info

	plugin *plugins.Plugin
}

// Open starts the plugin for u's scheme and resolves the key's PIN when NeedsPIN says so:
// when u names it (pin-source, or a non-empty pin-value: read before the plugin starts, so
// that a bad pin-source fails first) or the plugin declares plugins.CapabilityPIN in its
// Info (then $AWSKEEP_PIN or a prompt on the terminal, after Info). A plugin without PINs
// (a Tink keyset, whose protection is KMS) is never sent $AWSKEEP_PIN and never causes a
// prompt. Errors are classified: a PIN that cannot be found is creds.ClassPrompt
// or ClassConfig, a plugin that cannot start ClassPlugin, a host that is itself running
// under a plugin too deep ClassConfig (see CheckPluginDepth).
func Open(ctx context.Context, u *keyuri.URI, opts OpenOptions) (*Device, error) {
	// The plugin is found and checked first: asking for a PIN for a key no plugin serves
	// would waste the user's time (and a PIN typed for nothing).
	path, err := pluginhost.Find(u.Scheme, opts.Host)
	if err != nil {
		return nil, creds.Wrap(creds.ClassPlugin, "", err)
	}
	if err := CheckPluginDepth(opts.getenv()); err != nil {
		return nil, err
	}
	var secret string
	named := namesPIN(u)
	if named {
		if secret, err = resolvePIN(ctx, u, opts); err != nil {
			return nil, err
		}
	}
	p, info, err := pluginhost.StartPath(ctx, path, u.Scheme, opts.Logger, opts.Host)
	if err != nil {
		return nil, creds.Wrap(creds.ClassPlugin, "", err)
	}
	if !named && NeedsPIN(info, u) {
		if secret, err = resolvePIN(ctx, u, opts); err != nil {
			p.Close()
			return nil, err
		}
	}
	return &Device{
		Backend: p, plugin: p, Info: info,
		Key: plugins.Key{URI: u.WithoutSecrets().String(), PIN: secret},
	}, nil
}

// NeedsPIN reports whether the host resolves a PIN for keys of the plugin that answered
// info: only a plugin that declares plugins.CapabilityPIN is asked to check one. For the
// others the host sends an empty PIN, unless the key URI itself names one (pin-source, or a
// non-empty pin-value: the user's explicit choice, for a backend that checks a PIN without
// declaring it); $AWSKEEP_PIN and the terminal are never consulted for them.
func NeedsPIN(info plugins.Info, u *keyuri.URI) bool {
	return slices.Contains(info.Capabilities, plugins.CapabilityPIN) || namesPIN(u)
}

// namesPIN reports whether u itself names its PIN: a pin-source, or a non-empty pin-value.
func namesPIN(u *keyuri.URI) bool {
	if _, ok := u.QueryAttr(keyuri.PINSource); ok {
		return true
	}
	v, _ := u.QueryAttr(keyuri.PINValue)
	return v != ""
}

// keyPIN is the PIN the host sends for u to the plugin that answered info.
func keyPIN(ctx context.Context, u *keyuri.URI, info plugins.Info, opts OpenOptions) (string, error) {
	if !NeedsPIN(info, u) {
		return "", nil
	}
	return resolvePIN(ctx, u, opts)
}

// Deriver is the key's sigv4.Deriver, with errors explained (see Explain).
func (d *Device) Deriver() sigv4.Deriver {
	raw := Deriver(d.Backend, d.Key)
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		mac, err := raw.DeriveDateKey(ctx, date)
		return mac, d.Explain("HMAC", err)
	})
}

// resolvePIN finds the PIN for u as OpenOptions say; errors are classified.
func resolvePIN(ctx context.Context, u *keyuri.URI, opts OpenOptions) (string, error) {
	secret, err := pin.Resolve(ctx, u, func(o *pin.Options) {
		o.Getenv = opts.getenv()
		if opts.Prompter != nil {
			o.Prompter = opts.Prompter
		}
		o.NoPrompt = opts.NoPrompt
	})
	if err != nil {
		if errors.Is(err, prompt.ErrNoTerminal) {
			return "", creds.Wrap(creds.ClassPrompt, "", err) // names the PIN and the settings itself
		}
		class := creds.ClassConfig
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			class = creds.ClassPrompt
		}
		return "", creds.Wrap(class, "PIN", err)
	}
	return secret, nil
}

// getenv is opts' environment: Getenv, else Host.Getenv, else os.Getenv.
func (opts OpenOptions) getenv() func(string) string {
	switch {
	case opts.Getenv != nil:
		return opts.Getenv
	case opts.Host.Getenv != nil:
		return opts.Host.Getenv
	}
	return os.Getenv
}

// Close ends the plugin.
func (d *Device) Close() {
	if d.plugin != nil { // nil for a Device around an in-process Backend
		d.plugin.Close()
	}
}

// Name is the plugin's name (pkcs11, tpm, ...).
func (d *Device) Name() string { return d.plugin.Name() }

// Explain classifies an error of a device operation op ("HMAC", "import") and adds what a
// user can do: a crashed plugin is named with its signal, a wrong PIN says it was not
// retried, a deadline says which bound to raise.
func (d *Device) Explain(op string, err error) error {
	if err == nil {
		return nil
	}
	if creds.ClassOf(err) != creds.ClassUnknown {
		return err
	}
	if errors.Is(err, plugins.ErrPluginUnavailable) {
		if reason := pluginhost.CrashReason(d.plugin); reason != "" {
			return creds.Wrap(creds.ClassPlugin, "", fmt.Errorf("plugin %s crashed (%s) during %s: %w", d.plugin.Name(), reason, op, err))
		}
		return creds.Wrap(creds.ClassPlugin, "plugin "+d.plugin.Name(), err)
	}
	return explainDevice(op, d.Key, err)
}

// explainDevice classifies an error of a device operation as the device's and adds the
// hint (or says that no PIN was given).
func explainDevice(op string, key plugins.Key, err error) error {
	if creds.ClassOf(err) != creds.ClassUnknown {
		return err
	}
	if errors.Is(err, plugins.ErrPluginUnavailable) {
		return creds.Wrap(creds.ClassPlugin, "", err)
	}
	if errors.Is(err, plugins.ErrPINIncorrect) && key.PIN == "" {
		// No PIN was sent (pin-value= says the key has none): the device refusing is not a
		// wrong PIN, and saying so would send the user looking for a typo.
		return creds.Wrap(creds.ClassDevice, "", &noPIN{op})
	}
	return creds.Wrap(creds.ClassDevice, "", Hint(op, err))
}

// Hint adds to a device error what a user can do about it.
func Hint(op string, err error) error {
	switch {
	case errors.Is(err, plugins.ErrPINIncorrect):
		return &hinted{err, fmt.Sprintf("not retried: devices lock after repeated failures; check pin-source or $%s", pin.EnvVar)}
	case errors.Is(err, plugins.ErrPINLocked):
		return &hinted{err, "not retried: each failure counts against the device"}
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: the device did not answer in time (raise --timeout if it is slow): %w", op, err)
	}
	return err
}

// hinted is an error with advice after it. A wrapped hinted error is never hinted again.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + " (" + h.hint + ")" }
func (h *hinted) Unwrap() error { return h.err }

// noPIN is the device's refusal of a key used without a PIN. It is a plugins.ErrPINIncorrect
// for errors.Is, but its text does not claim a PIN was wrong: none was given.
type noPIN struct{ op string }

func (e *noPIN) Error() string {
	return fmt.Sprintf("%s: the key needs a PIN and none was given (its URI has an empty pin-value=): set pin-source in the key URI or $%s", e.op, pin.EnvVar)
}

func (e *noPIN) Unwrap() error { return plugins.ErrPINIncorrect }
