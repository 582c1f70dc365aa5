package backend

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// kmsTarget is what selects a KMS client: one per region, endpoint and profile.
type kmsTarget struct {
	region, endpoint, profile string
}

// DefaultKMS builds a KMS client from the standard AWS configuration of the plugin's
// environment (aws-sdk-go-v2 config.LoadDefaultConfig): the profile of profile= or the
// default one in ~/.aws/config and ~/.aws/credentials, web identity, the container
// endpoint or instance metadata, as far as the host lets those variables through.
// It is Options.NewKMS's default.
func DefaultKMS(ctx context.Context, region, endpoint, profile string) (awskms.KMSAPI, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	cfg.Credentials = typedCredentials{cfg.Credentials}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// aead returns the AEAD of ref's KMS key, from the cached client of its target.
func (b *Backend) aead(ctx context.Context, ref keyRef) (tink.AEADWithContext, error) {
	t := kmsTarget{region: ref.region, endpoint: ref.endpoint, profile: ref.profile}
	b.mu.Lock()
	client, ok := b.clients[t]
	b.mu.Unlock()
	if !ok {
		var err error
		if client, err = b.opts.NewKMS(ctx, t.region, t.endpoint, t.profile); err != nil {
			return nil, err
		}
		b.mu.Lock()
		if c, ok := b.clients[t]; ok {
			client = c
		} else {
			b.clients[t] = client
		}
		b.mu.Unlock()
	}
	// AssociatedData: the encryption context name Tink uses in every language.
	return awskms.NewAEADWithContext(ctx, ref.keyID, awskms.WithKMS(client), awskms.WithEncryptionContextName(awskms.AssociatedData))
}

// typedCredentials marks a failure of the credential chain with noCredentialsError, so
// that translateKMS tells it by type: aws-sdk-go-v2 wraps it in text only ("get identity:
// get credentials: failed to refresh cached credentials, ...").
type typedCredentials struct {
	aws.CredentialsProvider
}

func (p typedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &noCredentialsError{err: err}
	}
	return c, nil
}

// noCredentialsError is the credential chain finding nothing.
type noCredentialsError struct{ err error }

func (e *noCredentialsError) Error() string { return "no AWS credentials: " + e.err.Error() }
func (e *noCredentialsError) Unwrap() error { return e.err }
