package sts

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/sigv4"
)

// DefaultRegion is the region used when none is given.
const DefaultRegion = "us-east-1"

// Options configure a Client.
type Options struct {
	// Region is the STS region; default DefaultRegion.
	Region string
	// EndpointURL replaces the STS endpoint, e.g. http://127.0.0.1:5000 for a local moto.
	EndpointURL string
	// HTTPClient sends the requests; default a client of the SDK's own.
	HTTPClient *http.Client
	// RetryMaxAttempts bounds the SDK's retries of throttled or failed calls; default 3.
	// Every attempt is signed again, which costs one device HMAC unless the signer caches.
	RetryMaxAttempts int
	// SignerOptions configure the split signer.
	SignerOptions []func(*sigv4.Options)
	// Now is the clock credentials' expiry is checked against; default time.Now.
	Now func() time.Time
}

// Client calls STS, signing with a long-term access key whose secret is in a device.
type Client struct {
	api    *awssts.Client
	signer *sigv4.Signer // nil for NewUnsigned
	region string
	now    func() time.Time
}

// New returns a Client that signs as accessKeyID, with kDate from d.
func New(d sigv4.Deriver, accessKeyID string, optFns ...func(*Options)) *Client {
	opts := resolveOptions(optFns)
	signer := sigv4.New(d, opts.SignerOptions...)
	// The provider hands out only the public half; the secret stays in the device.
	public := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: accessKeyID, Source: "awskeep"}, nil
	})
	c := newClient(opts, public, splitSigner{signer})
	c.signer = signer
	return c
}

// Close zeroes the signing keys the client's signer cached (sigv4.Options.CacheSigningKey).
// The client can still be used: it then asks the Deriver again.
func (c *Client) Close() {
	if c.signer != nil {
		c.signer.Close()
	}
}

// NewUnsigned returns a Client for the operations STS does not sign
// (AssumeRoleWithSAML): it holds no key at all.
func NewUnsigned(optFns ...func(*Options)) *Client {
	return newClient(resolveOptions(optFns), aws.AnonymousCredentials{}, nil)
}

func resolveOptions(optFns []func(*Options)) Options {
	opts := Options{Region: DefaultRegion, RetryMaxAttempts: 3}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts
}

// newClient builds the SDK client; signer nil keeps the SDK's (unused without keys).
func newClient(opts Options, credentials aws.CredentialsProvider, signer awssts.HTTPSignerV4) *Client {
	api := awssts.New(awssts.Options{
		Region:           opts.Region,
		Credentials:      credentials,
		HTTPSignerV4:     signer,
		RetryMaxAttempts: opts.RetryMaxAttempts,
	}, func(o *awssts.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
		base := opts.HTTPClient
		if base == nil {
			base = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		}
		client := *base
		next := client.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		client.Transport = capturingTransport{next: next}
		// A redirect is reported, not followed: STS does not redirect, so one means a wrong
		// endpoint (http:// to https://, a proxy's login page), and following a POST that
		// carries a signature or an assertion elsewhere is the last thing to do with it.
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		o.HTTPClient = &client
	})
	return &Client{api: api, region: opts.Region, now: opts.Now}
}

// splitSigner plugs sigv4.Signer into the SDK in place of its v4.Signer.
type splitSigner struct{ s *sigv4.Signer }

func (a splitSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*v4.SignerOptions)) error {
	var sdkOpts v4.SignerOptions
	for _, fn := range optFns {
		fn(&sdkOpts)
	}
	err := a.s.SignHTTP(ctx, r, payloadHash, sigv4.Credentials{AccessKeyID: creds.AccessKeyID, SessionToken: creds.SessionToken},
		service, region, t, func(o *sigv4.Options) { o.DisableURIPathEscaping = sdkOpts.DisableURIPathEscaping })
	if err != nil {
		if c, ok := ctx.Value(captureKey{}).(*errorCapture); ok {
			c.signErr = err
		}
		return &signingError{err}
	}
	return nil
}

// signingError marks a failure of the signer (usually the device), so that it can be told
// from an STS error after the SDK has wrapped it.
type signingError struct{ err error }

func (e *signingError) Error() string { return e.err.Error() }
func (e *signingError) Unwrap() error { return e.err }
