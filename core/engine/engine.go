package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/mfa"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/sinks"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// MFASetting names what answers the MFA prompt when there is no terminal.
const MFASetting = "--mfa-code, or awskeep_mfa_process in the profile"

// Options configure New. The zero value of each field selects its default.
type Options struct {
	// Cache, when set, wraps the source: answers come from it while more than 15 minutes
	// remain. Nil fetches every time (--no-cache).
	Cache *cache.Cache
	// Plugins says where plugins are and how they are checked.
	Plugins pluginhost.Options
	// Getenv reads the environment ($AWSKEEP_PIN); default os.Getenv.
	Getenv func(string) string
	// Environ is the process environment an mfa_process inherits, with secrets removed;
	// default os.Environ().
	Environ []string
	// Prompter asks for the PIN and the MFA code; default the controlling terminal.
	Prompter prompt.Prompter
	// Logger receives debug timings and the plugin's log lines; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Pool, for long-lived hosts (serve, exec --server), keeps the key's plugin running
	// between Retrieves and restarts it after a crash; the PIN is then resolved once. Nil
	// starts the plugin for each Retrieve and ends it after.
	Pool *pluginhost.Pool
	// Device, when set, is the settings' key already on a long-lived plugin host, shared
	// with another user of the key (a direct signer): its plugin and resolved PIN serve
	// this source too. It takes precedence over Pool.
	Device *devicekey.Pooled
	// SAMLRole, when set, learns the role a SAML source assumed (chosen on the terminal or
	// configured), after STS answered.
	SAMLRole func(roleARN string)
}

// New returns the Provider for s: its source, wrapped in Options.Cache when set. Nothing
// is started until Retrieve; a cache hit starts no plugin and asks nothing.
func New(s Settings, opts Options) (creds.Provider, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	if opts.Prompter == nil {
		opts.Prompter = prompt.TTY{}
	}
	if opts.Plugins.Getenv == nil {
		opts.Plugins.Getenv = opts.Getenv
	}
	if s.CABundle != "" {
		// Checked now, loaded only when STS is called: parsing a bundle of a hundred CAs
		// and the system's roots would cost a cache hit more than everything else it does.
		if err := looksLikePEM(s.CABundle); err != nil {
			return nil, creds.Wrap(creds.ClassConfig, s.where("ca-bundle"), err)
		}
	}
	if s.Source == SourceSAML {
		source, err := newSAMLSource(s, opts)
		if err != nil {
			return nil, err
		}
		if opts.Cache == nil {
			return source, nil
		}
		return cache.Wrap(opts.Cache, samlCacheKey(s, opts.Getenv), source), nil
	}
	u, err := keyuri.Parse(s.Key)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, s.where("key"), err)
	}
	source := &devicekey.Provider{
		Key: u,
		Request: devicekey.Request{
			AccessKeyID: s.AccessKeyID, RoleARN: s.RoleARN, RoleSessionName: s.RoleSessionName,
			ExternalID: s.ExternalID, Duration: s.Duration, MFASerial: s.MFASerial,
			MFACode: mfaCode(s, opts),
			MFAReady: func() error {
				if s.MFACode != "" || s.MFAProcess != "" {
					return nil
				}
				return prompt.Required(prompt.CanAsk(opts.Prompter), "MFA code for "+s.MFASerial, MFASetting)
			},
		},
		Open: devicekey.OpenOptions{Host: opts.Plugins, Logger: opts.Logger, Getenv: opts.Getenv, Prompter: opts.Prompter},
		STS: func(o *sts.Options) error {
			httpClient, err := sts.HTTPClient(s.CABundle)
			if err != nil {
				return fmt.Errorf("%s: %w", s.where("ca-bundle"), err)
			}
			o.Region, o.EndpointURL, o.HTTPClient = s.Region, s.EndpointURL, httpClient
			return nil
		},
		Logger: opts.Logger,
		Now:    opts.Now,
	}
	switch {
	case opts.Device != nil:
		source.Pooled = opts.Device
	case opts.Pool != nil:
		source.Pooled = &devicekey.Pooled{Backend: opts.Pool, URI: u, Open: source.Open}
	}
	if opts.Cache == nil {
		return source, nil
	}
	return cache.Wrap(opts.Cache, CacheKey(s, u), source), nil
}

// CacheKeyFor is the cache entry of s, whatever its source; getenv reads the environment
// ($KRB5CCNAME for a kerberos SAML profile).
func CacheKeyFor(s Settings, getenv func(string) string) (cache.Key, error) {
	if s.Source == SourceSAML {
		return samlCacheKey(s, getenv), nil
	}
	u, err := keyuri.Parse(s.Key)
	if err != nil {
		return cache.Key{}, creds.Wrap(creds.ClassConfig, s.where("key"), err)
	}
	return CacheKey(s, u), nil
}

// CacheKey is the cache entry for s: everything that changes what STS returns, and no
// secret (the URI loses its pin-value).
func CacheKey(s Settings, u *keyuri.URI) cache.Key {
	return cache.Key{
		KeyURI: u.WithoutSecrets().String(), AccessKeyID: s.AccessKeyID,
		RoleARN: s.RoleARN, RoleSessionName: s.RoleSessionName, ExternalID: s.ExternalID,
		Duration: s.Duration, Region: s.Region, Endpoint: s.EndpointURL, MFASerial: s.MFASerial,
	}
}

// mfaCode returns the function that answers the MFA device's code, in order: --mfa-code,
// awskeep_mfa_process, a prompt on the terminal.
func mfaCode(s Settings, opts Options) func(context.Context) (string, error) {
	if s.MFASerial == "" {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		return oneTimeCode(ctx, s, opts, "MFA code for "+s.MFASerial, MFASetting, "an MFA code is six digits")
	}
}

// oneTimeCode answers a one-time-code question (an MFA device's, an IdP's), in order:
// --mfa-code, awskeep_mfa_process, a prompt on the terminal asking question. setting names
// what answers without a terminal; invalid is the error for a code that is not six digits.
func oneTimeCode(ctx context.Context, s Settings, opts Options, question, setting, invalid string) (string, error) {
	var code string
	var err error
	switch {
	case s.MFACode != "":
		code = s.MFACode
	case s.MFAProcess != "":
		code, err = mfa.Run(ctx, s.MFAProcess, sinks.CleanEnv(opts.Environ))
	default:
		code, err = opts.Prompter.Line(ctx, question+": ")
		// A typed or pasted code may carry spaces; mfa.Run trims its output too.
		code = strings.TrimSpace(code)
		err = prompt.Required(err, question, setting)
	}
	if err != nil {
		return "", err
	}
	if !mfa.Valid(code) {
		return "", errors.New(invalid)
	}
	return code, nil
}

// looksLikePEM checks, without parsing certificates or reading the whole file, that path is
// a readable file that starts a PEM CERTIFICATE block.
func looksLikePEM(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("CA bundle: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "-----BEGIN CERTIFICATE-----" {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("CA bundle %s: %w", path, err)
	}
	return fmt.Errorf("CA bundle %s holds no PEM certificate", path)
}
