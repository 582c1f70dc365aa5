package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// keyFlags name one key, by URI or through a profile's awskeep_key, for the commands that
// work on the key itself (import, keys).
type keyFlags struct {
	profile string
	key     string
	host    hostFlags
}

func (k *keyFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&k.profile, "profile", "", "take the key URI from awskeep_key of [profile NAME] in $AWS_CONFIG_FILE")
	fs.StringVar(&k.key, "key", "", "key URI, e.g. pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin")
	k.host.bind(fs)
}

// uri returns the key URI from --key, else the profile.
func (k *keyFlags) uri(e *env) (*keyuri.URI, error) {
	text, origin := k.key, "--key"
	if text == "" && k.profile != "" {
		p, err := loadProfile(e, k.profile)
		if err != nil {
			return nil, err
		}
		if p.Key == "" {
			return nil, creds.Wrap(creds.ClassConfig, "", fmt.Errorf("%s: [profile %s] has no awskeep_key", p.Where("awskeep_key"), p.Name))
		}
		text, origin = p.Key, p.Where("awskeep_key")+" (awskeep_key)"
	}
	if text == "" {
		return nil, usagef("say which key: --key URI (e.g. pkcs11:token=aws;object=prod) or --profile NAME")
	}
	u, err := keyuri.Parse(text)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, origin, fmt.Errorf("key URI: %w", err))
	}
	return u, nil
}

// deviceURI takes --key as a URI that names a device (keyuri.ParseDevice: its object part may
// be left out), else the profile's key URI. Commands that work on a whole device (keys list,
// audit) take it.
func (k *keyFlags) deviceURI(e *env) (*keyuri.URI, error) {
	if k.key == "" {
		return k.uri(e)
	}
	u, err := keyuri.ParseDevice(k.key)
	if err != nil {
		return nil, creds.Wrap(creds.ClassConfig, "--key", fmt.Errorf("key URI: %w", err))
	}
	return u, nil
}

// withDevice opens the key's device under --timeout and runs op with it.
func (k *keyFlags) withDevice(ctx context.Context, e *env, what string, op func(context.Context, *devicekey.Device) error) error {
	u, err := k.uri(e)
	if err != nil {
		return err
	}
	return k.withDeviceAt(ctx, e, u, fmt.Sprintf("%s %s", what, u.WithoutSecrets()), op)
}

// withDeviceAt opens the device u names under --timeout and runs op with it, closing the
// device after. A failure to open it is prefixed with what.
func (k *keyFlags) withDeviceAt(ctx context.Context, e *env, u *keyuri.URI, what string, op func(context.Context, *devicekey.Device) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeDuration(k.host.timeout))
	defer cancel()
	d, err := devicekey.Open(ctx, u, devicekey.OpenOptions{Host: k.host.options(e), Logger: e.logger, Getenv: e.getenv})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer d.Close()
	return op(ctx, d)
}
