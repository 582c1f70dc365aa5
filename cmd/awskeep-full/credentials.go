package main

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/profile"
)

// credentialFlags are the flags of every command that obtains credentials. Each overrides
// the profile's setting of the same meaning.
type credentialFlags struct {
	profile  string
	settings engine.Settings
	duration durationValue
	host     hostFlags
	noCache  bool
	// samlRole, when set, learns the role a SAML source assumed (login prints it).
	samlRole func(roleARN string)
}

func (f *credentialFlags) bind(fs *pflag.FlagSet) {
	s := &f.settings
	fs.StringVar(&f.profile, "profile", "", "read settings from [profile NAME] of $AWS_CONFIG_FILE (default ~/.aws/config)")
	fs.StringVar(&s.Key, "key", "", "key URI (awskeep_key), e.g. pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin")
	fs.StringVar(&s.AccessKeyID, "access-key-id", "", "access key ID whose secret the device holds (awskeep_access_key_id)")
	fs.StringVar(&s.RoleARN, "role-arn", "", "assume this role (awskeep_role_arn); without one, GetSessionToken")
	fs.StringVar(&s.RoleSessionName, "role-session-name", "", "session name for AssumeRole (role_session_name; default awskeep-USER)")
	fs.StringVar(&s.ExternalID, "external-id", "", "external ID for AssumeRole (external_id)")
	fs.Var(&f.duration, "duration", "lifetime of the credentials, 1h or 3600 (duration_seconds; default 1h; 15m to 12h, 36h for GetSessionToken)")
	fs.StringVar(&s.MFASerial, "mfa-serial", "", "ARN or serial of the MFA device (mfa_serial)")
	fs.StringVar(&s.MFACode, "mfa-code", "", "current code of the MFA device (else awskeep_mfa_process, else a prompt on the terminal)")
	fs.StringVar(&s.Region, "region", "", "STS region (region; default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
	fs.StringVar(&s.EndpointURL, "endpoint-url", "", "STS endpoint (services sts endpoint_url, endpoint_url; default $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL)")
	fs.StringVar(&s.CABundle, "ca-bundle", "", "PEM file of extra CAs trusted for STS (ca_bundle; default $AWS_CA_BUNDLE)")
	fs.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the credential cache")
	f.host.bind(fs)
}

// loadProfile reads the named profile from $AWS_CONFIG_FILE (default ~/.aws/config).
func loadProfile(e *env, name string) (*profile.Profile, error) {
	path, err := profile.DefaultPath(e.getenv)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, "profile "+name, err)
	}
	p, err := profile.Load(path, name)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, "", err)
	}
	return p, nil
}

// resolve merges the flags with the profile, if any, and the environment.
func (f *credentialFlags) resolve(e *env) (engine.Settings, error) {
	if f.profile == "" && f.settings.Key == "" {
		return engine.Settings{}, usagef("say which key to use: --profile NAME, or --key URI with --access-key-id")
	}
	var p *profile.Profile
	if f.profile != "" {
		var err error
		if p, err = loadProfile(e, f.profile); err != nil {
			return engine.Settings{}, err
		}
	}
	flags := f.settings
	flags.Duration = timeDuration(f.duration)
	return engine.Resolve(flags, p, e.getenv)
}

// provider resolves the settings and builds the engine's provider for them, with the
// cache unless --no-cache; pool, when set, keeps the plugin warm (long-lived commands).
func (f *credentialFlags) provider(e *env, pool *pluginhost.Pool) (engine.Settings, creds.Provider, error) {
	s, err := f.resolve(e)
	if err != nil {
		return s, nil, err
	}
	opts := engine.Options{
		Plugins: f.host.options(e), Getenv: e.getenv, Environ: e.environ(),
		Logger: e.logger, Now: e.now, Pool: pool, SAMLRole: f.samlRole,
	}
	if !f.noCache {
		if opts.Cache, err = openCache(e); err != nil {
			return s, nil, creds.Wrap(creds.ClassCache, "credential cache", err)
		}
	}
	p, err := engine.New(s, opts)
	return s, p, err
}

// retrieve resolves the settings and returns the credentials, from the cache unless
// --no-cache, within --timeout.
func (f *credentialFlags) retrieve(ctx context.Context, e *env) (engine.Settings, creds.Credentials, error) {
	return f.retrieveWith(ctx, e, nil)
}

// retrieveWith is retrieve with the plugin kept warm in pool (nil: started and ended for
// this call).
func (f *credentialFlags) retrieveWith(ctx context.Context, e *env, pool *pluginhost.Pool) (engine.Settings, creds.Credentials, error) {
	s, p, err := f.provider(e, pool)
	if err != nil {
		return s, creds.Credentials{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeDuration(f.host.timeout))
	defer cancel()
	c, err := p.Retrieve(ctx)
	if err != nil {
		return s, creds.Credentials{}, err
	}
	return s, c, nil
}

// openCache opens the cache in $XDG_CACHE_HOME/awskeep (default ~/.cache/awskeep).
func openCache(e *env) (*cache.Cache, error) {
	dir, err := cache.DirFrom(e.getenv)
	if err != nil {
		return nil, err
	}
	return cache.Open(func(o *cache.Options) {
		o.Dir = dir
		o.Now = e.now
		o.Logger = e.logger
	})
}

func timeDuration(d durationValue) time.Duration { return time.Duration(d) }
