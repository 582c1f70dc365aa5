package devicesign

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
)

// CredentialsProvider returns an aws.CredentialsProvider that asks STS for temporary
// credentials, signing with the device key: AssumeRole when the settings name a role
// (awskeep_role_arn), GetSessionToken otherwise, with the settings' duration, MFA device and
// STS endpoint, exactly as `awskeep credential-process` does but without its disk cache.
// It shares the Key's plugin and PIN.
//
// Every Retrieve calls STS. Wrap the provider in aws.NewCredentialsCache, which keeps the
// credentials and fetches new ones ExpiryWindow before they expire:
//
//	cfg.Credentials = aws.NewCredentialsCache(key.CredentialsProvider(),
//		func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
func (k *Key) CredentialsProvider() aws.CredentialsProvider {
	return &credentialsProvider{k: k}
}

type credentialsProvider struct {
	k *Key

	once   sync.Once
	source creds.Provider
	err    error
}

// Retrieve returns fresh temporary credentials.
func (p *credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	k := p.k
	if k.closed.Load() {
		return aws.Credentials{}, ErrClosed
	}
	p.once.Do(func() {
		p.source, p.err = engine.New(k.settings, engine.Options{
			Plugins: k.opts.Plugins, Getenv: k.opts.Getenv, Prompter: k.opts.Prompter,
			Logger: k.opts.Logger, Device: k.device,
		})
	})
	if p.err != nil {
		return aws.Credentials{}, p.err
	}
	c, err := p.source.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Source: "awskeep", CanExpire: !c.Expiration.IsZero(), Expires: c.Expiration,
	}, nil
}
