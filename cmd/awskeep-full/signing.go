package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/awskeep/awskeep/core/devicesign"
	"github.com/awskeep/awskeep/core/engine"
)

// signFlags are the flags of the commands that sign requests with the device key directly
// (curl, presign, proxy): which key, and the default region. They override the profile.
type signFlags struct {
	profile    string
	settings   engine.Settings
	host       hostFlags
	noKeyCache bool
}

// bind binds the flags of curl and presign, which sign for a URL: the key's, and --region.
func (f *signFlags) bind(fs *pflag.FlagSet) {
	f.bindKey(fs)
	fs.StringVar(&f.settings.Region, "region", "", "signing region when the URL does not name one (region; default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
}

// bindKey binds the flags that choose the key. The proxy binds only these: it signs each
// request for the region its client signed it for, so a region of its own would do nothing.
func (f *signFlags) bindKey(fs *pflag.FlagSet) {
	s := &f.settings
	fs.StringVar(&f.profile, "profile", "", "read awskeep_key, awskeep_access_key_id and region from [profile NAME] of $AWS_CONFIG_FILE")
	fs.StringVar(&s.Key, "key", "", "key URI (awskeep_key), e.g. pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin")
	fs.StringVar(&s.AccessKeyID, "access-key-id", "", "access key ID whose secret the device holds (awskeep_access_key_id)")
	fs.BoolVar(&f.noKeyCache, "no-signing-key-cache", false, "ask the device for every signature instead of once per day and scope (audit trails)")
	f.host.bind(fs)
}

// resolve merges the flags with the profile and the environment.
func (f *signFlags) resolve(e *env) (engine.Settings, error) {
	if f.profile == "" && f.settings.Key == "" {
		return engine.Settings{}, usagef("say which key to sign with: --profile NAME, or --key URI with --access-key-id")
	}
	cf := credentialFlags{profile: f.profile, settings: f.settings}
	return cf.resolve(e)
}

// open resolves the settings and opens the key: its plugin runs until the Key is closed.
// ctx bounds the opening (plugin start, PIN, the key's check).
func (f *signFlags) open(ctx context.Context, e *env) (*devicesign.Key, error) {
	s, err := f.resolve(e)
	if err != nil {
		return nil, err
	}
	return devicesign.OpenSettings(ctx, s, devicesign.Options{
		Plugins: f.host.options(e), Getenv: e.getenv, Logger: e.logger,
		NoSigningKeyCache: f.noKeyCache,
	})
}
