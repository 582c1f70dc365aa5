package devicekey

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Request says which temporary credentials to ask STS for with the device key.
type Request struct {
	// AccessKeyID is the long-term access key id whose secret the device holds.
	AccessKeyID string
	// RoleARN selects AssumeRole; empty selects GetSessionToken.
	RoleARN, RoleSessionName, ExternalID string
	// Duration of the credentials; zero leaves STS's default.
	Duration time.Duration
	// MFASerial is the MFA device's ARN or serial; with it, MFACode is asked for a code.
	MFASerial string
	// MFACode returns the current code of the MFA device. It is called after the device
	// is open and right before STS, so a typed code is as fresh as it can be.
	MFACode func(ctx context.Context) (string, error)
	// MFAReady, if set, says before the device is opened whether MFACode will be able to
	// answer (a prompt needs a terminal), so that a missing answer fails at once.
	MFAReady func() error
}

// Provider is the device-key source of the credential engine: it opens the key's device
// (starting its plugin), signs GetSessionToken or AssumeRole with it through the split
// signer, and closes the device. Every Retrieve does all of that; wrap it in the cache.
type Provider struct {
	// Key is the key URI, possibly with a pin-source.
	Key *keyuri.URI
	// Request is what to ask STS for.
	Request Request
	// Open says how to reach the device.
	Open OpenOptions
	// STS configures the STS client (region, endpoint, HTTP client). It runs only when STS
	// is about to be called, so costly set-up (loading a CA bundle) never slows a cache hit;
	// its error is a configuration error.
	STS func(*sts.Options) error
	// Logger receives debug timings; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock for timings; default time.Now.
	Now func() time.Time
	// Pooled, when set, is the key on a long-lived plugin host, used instead of starting
	// the key's plugin for each Retrieve; its PIN is resolved once (see Pooled).
	Pooled *Pooled
}

var _ creds.Provider = (*Provider)(nil)

// Retrieve returns fresh temporary credentials from STS.
func (p *Provider) Retrieve(ctx context.Context) (creds.Credentials, error) {
	now, log := p.Now, p.Logger
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := now()
	r := p.Request
	if r.MFASerial != "" && r.MFAReady != nil {
		if err := r.MFAReady(); err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassPrompt, "", err)
		}
	}
	var deriver sigv4.Deriver
	if p.Pooled != nil {
		// The PIN is resolved before STS is involved, so that a missing one fails first.
		if _, err := p.Pooled.Key(ctx); err != nil {
			return creds.Credentials{}, err
		}
		deriver = p.Pooled.Deriver()
	} else {
		d, err := Open(ctx, p.Key, p.Open)
		if errors.Is(err, prompt.ErrNoTerminal) {
			return creds.Credentials{}, err // says what it could not ask for, and which setting answers
		}
		if err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassPlugin, "open key "+p.Key.WithoutSecrets().String(), err)
		}
		// Closed once it has answered, while STS is called, and waited for before returning.
		rel := newReleasing(d)
		defer rel.Close()
		log.Debug("plugin started", "plugin", d.Name(), "elapsed", now().Sub(start))
		deriver = rel.Deriver()
	}
	deriver = loggedDeriver(deriver, log, now, start)

	var code string
	var err error
	if r.MFASerial != "" && r.MFACode != nil {
		if code, err = r.MFACode(ctx); errors.Is(err, prompt.ErrNoTerminal) {
			return creds.Credentials{}, creds.Wrap(creds.ClassPrompt, "", err)
		} else if err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassPrompt, "MFA code for "+r.MFASerial, err)
		}
	}
	var stsOpts sts.Options
	if p.STS != nil {
		if err := p.STS(&stsOpts); err != nil {
			return creds.Credentials{}, creds.Wrap(creds.ClassConfig, "", err)
		}
	}
	client := sts.New(deriver, r.AccessKeyID, func(o *sts.Options) {
		o.Region, o.EndpointURL, o.HTTPClient = stsOpts.Region, stsOpts.EndpointURL, stsOpts.HTTPClient
		// A retry re-signs with the kSigning of the first attempt, not with the device
		// (released after its answer); zeroed by Close below.
		o.SignerOptions = append(o.SignerOptions, func(so *sigv4.Options) { so.CacheSigningKey = true })
	})
	defer client.Close()
	var out creds.Credentials
	op := "GetSessionToken"
	if r.RoleARN != "" {
		op = "AssumeRole " + r.RoleARN
		out, err = client.AssumeRole(ctx, sts.AssumeRoleInput{
			RoleARN: r.RoleARN, RoleSessionName: r.RoleSessionName, Duration: r.Duration,
			ExternalID: r.ExternalID, SerialNumber: r.MFASerial, TokenCode: code,
		})
	} else {
		out, err = client.GetSessionToken(ctx, sts.GetSessionTokenInput{
			Duration: r.Duration, SerialNumber: r.MFASerial, TokenCode: code,
		})
	}
	log.Debug("STS answered", "operation", op, "elapsed", now().Sub(start))
	return out, err
}

// loggedDeriver logs, at debug level, when the device has answered for kDate and how long
// after start (the cold path's phases: cmd/bench).
func loggedDeriver(d sigv4.Deriver, log *slog.Logger, now func() time.Time, start time.Time) sigv4.Deriver {
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		k, err := d.DeriveDateKey(ctx, date)
		log.Debug("device answered", "elapsed", now().Sub(start))
		return k, err
	})
}
