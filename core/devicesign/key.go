package devicesign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// ErrClosed is returned by every use of a Key after Close.
var ErrClosed = errors.New("devicesign: the key is closed")

// Options say which key to open and how. The zero value of each field selects its default.
type Options struct {
	// Profile names [profile NAME] of the AWS config file; its awskeep_key,
	// awskeep_access_key_id, region and, for CredentialsProvider, awskeep_role_arn,
	// duration_seconds, mfa_serial and the STS endpoint are used.
	Profile string
	// ConfigFile is the AWS config file; default $AWS_CONFIG_FILE, then ~/.aws/config.
	ConfigFile string

	// Settings override the profile's, like the awskeep command's flags (Key, AccessKeyID,
	// Region, RoleARN, ...); a program that needs no profile sets Key and AccessKeyID here.
	Settings engine.Settings

	// Plugins says where plugins are and how they are checked (Dir is --plugin-dir).
	Plugins pluginhost.Options

	// NoSigningKeyCache makes every signature one device operation, instead of one per
	// day and (region, service): for an audit trail of every request in the device's log.
	NoSigningKeyCache bool

	// Getenv reads the environment ($AWSKEEP_PIN, $AWS_REGION, $AWSKEEP_PLUGIN_DIR, ...);
	// default os.Getenv. It does not reach the plugin: a plugin process inherits this
	// process's environment, filtered to what its device needs (SOFTHSM2_CONF, ...; see
	// the plugins package's Launch), so set such variables in the process environment.
	Getenv func(string) string
	// Prompter asks for the PIN (and the MFA code of CredentialsProvider) when nothing
	// else gives it; default the controlling terminal.
	Prompter prompt.Prompter
	// NoPrompt fails instead of asking for a PIN.
	NoPrompt bool
	// Logger receives the plugin's log lines and debug timings; nil logs nothing.
	Logger *slog.Logger
}

// Key is an open device key: a running plugin and the key's resolved PIN. It is safe for
// concurrent use. Close it when done; the plugin runs until then.
type Key struct {
	settings engine.Settings
	opts     Options
	pool     *pluginhost.Pool
	device   *devicekey.Pooled
	signer   *sigv4.Signer

	closed    atomic.Bool
	closeOnce sync.Once
}

// Open resolves the settings (Options.Profile, then Options.Settings over it), starts the
// key's plugin, resolves its PIN and checks that the device has the key, so that a wrong
// setting fails here rather than at the first request. Errors are classified with
// package creds (configuration, prompt, plugin, device).
func Open(ctx context.Context, opts Options) (*Key, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	var p *profile.Profile
	if opts.Profile != "" {
		path := opts.ConfigFile
		if path == "" {
			var err error
			if path, err = profile.DefaultPath(opts.Getenv); err != nil {
				return nil, creds.Wrap(creds.ClassConfig, "profile "+opts.Profile, err)
			}
		}
		var err error
		if p, err = profile.Load(path, opts.Profile); err != nil {
			return nil, creds.Wrap(creds.ClassConfig, "", err)
		}
	}
	s, err := engine.Resolve(opts.Settings, p, opts.Getenv)
	if err != nil {
		return nil, err
	}
	return OpenSettings(ctx, s, opts)
}

// OpenSettings is Open for settings already resolved with engine.Resolve (the awskeep
// command's path); opts.Profile, ConfigFile and Settings are ignored.
func OpenSettings(ctx context.Context, s engine.Settings, opts Options) (*Key, error) {
	return open(ctx, s, opts, nil)
}

// open is OpenSettings on a given pool (nil: a new one); the Key owns the pool.
func open(ctx context.Context, s engine.Settings, opts Options, pool *pluginhost.Pool) (*Key, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Plugins.Getenv == nil {
		opts.Plugins.Getenv = opts.Getenv
	}
	if opts.Prompter == nil {
		opts.Prompter = prompt.TTY{}
	}
	u, err := keyuri.Parse(s.Key)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, "key", err)
	}
	// Find and check the plugin before asking for a PIN: a PIN typed for a key that no
	// plugin serves is the user's time wasted.
	if _, err := pluginhost.Find(u.Scheme, opts.Plugins); err != nil {
		return nil, creds.Wrap(creds.ClassPlugin, "", err)
	}
	if pool == nil {
		pool = pluginhost.NewPool(opts.Logger, opts.Plugins)
	}
	k := &Key{settings: s, opts: opts, pool: pool}
	k.device = &devicekey.Pooled{
		Backend: k.pool, URI: u,
		Open: devicekey.OpenOptions{Logger: opts.Logger, Getenv: opts.Getenv, Prompter: opts.Prompter, NoPrompt: opts.NoPrompt},
	}
	k.signer = sigv4.New(k.deriver(), func(o *sigv4.Options) { o.CacheSigningKey = !opts.NoSigningKeyCache })
	if err := k.check(ctx, u); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// check starts the plugin, resolves the PIN and asks the device to describe the key.
func (k *Key) check(ctx context.Context, u *keyuri.URI) error {
	if _, err := k.pool.Plugin(ctx, u.Scheme); err != nil {
		return creds.Wrap(creds.ClassPlugin, "", err)
	}
	key, err := k.device.Key(ctx)
	if err != nil {
		return err
	}
	name := "key " + u.WithoutSecrets().String()
	desc, err := k.pool.DescribeKey(ctx, key)
	if err != nil {
		return creds.Wrap(creds.ClassDevice, name, devicekey.Hint("describe", err))
	}
	if !desc.Exists {
		return creds.Wrap(creds.ClassDevice, name, fmt.Errorf("%w: import it first with awskeep import --key URI", plugins.ErrKeyNotFound))
	}
	return nil
}

// deriver counts device operations and refuses after Close.
func (k *Key) deriver() sigv4.Deriver {
	d := k.device.Deriver()
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		if k.closed.Load() {
			return nil, ErrClosed
		}
		return d.DeriveDateKey(ctx, date)
	})
}

// AccessKeyID is the access key ID whose secret the device holds.
func (k *Key) AccessKeyID() string { return k.settings.AccessKeyID }

// Region is the default signing region: the profile's region, $AWS_REGION,
// $AWS_DEFAULT_REGION, or us-east-1.
func (k *Key) Region() string { return k.settings.Region }

// Settings are the resolved settings the Key was opened with.
func (k *Key) Settings() engine.Settings { return k.settings }

// DeviceOperations is the number of HMACs the device has been asked for through this Key,
// for signing (with the signing-key cache, one per day and (region, service); without it,
// one per signature) and for CredentialsProvider's STS calls (one each).
func (k *Key) DeviceOperations() int64 { return k.device.Operations() }

// Close zeroes the cached signing keys, forgets the PIN and ends the plugin. Signing and
// credentials fail with ErrClosed afterwards. Close is idempotent.
func (k *Key) Close() error {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		k.signer.Close()
		k.device.Forget()
		k.pool.Close()
	})
	return nil
}

func (k *Key) String() string {
	return fmt.Sprintf("device key %s (%s)", k.device.URI.WithoutSecrets(), k.settings.AccessKeyID)
}
