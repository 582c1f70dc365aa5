package refresh

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/plugins"
)

// Options configure a Provider. The zero value gives the defaults documented on each field.
type Options struct {
	// Now is the clock; time.Now by default.
	Now func() time.Time

	// Sleep waits for d or until ctx is done, returning ctx's error in that case. It is the
	// background loop's only way to wait, so that tests can drive the loop with a fake
	// clock. The default uses a real timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// Ahead returns how long before expiry to refresh, given the credentials' total lifetime
	// as seen when they arrived. The default is DefaultAhead.
	Ahead func(lifetime time.Duration) time.Duration

	// RetryMin and RetryMax bound the exponential backoff after a failed refresh (1 s and
	// 1 min by default). A retry is never scheduled past the expiry of the credentials held:
	// once they have expired, Retrieve fetches synchronously anyway.
	RetryMin, RetryMax time.Duration

	// FetchTimeout bounds one call to the source (1 min by default). The fetch runs on a
	// context of its own, not a caller's, so that it can serve every caller waiting for it.
	FetchTimeout time.Duration

	// Permanent reports whether a fetch error must never be retried. After such an error
	// the Provider does not call the source again, neither in the background nor for a
	// request: it serves the credentials it holds until they expire, then returns that
	// error to every caller until Close. The default is DefaultPermanent.
	Permanent func(error) bool

	// Logger gets one info line per refresh (access key id and expiry only) and a warning
	// per failure (the error, whose text never holds a secret). Nil discards.
	Logger *slog.Logger

	// OnRefresh, if set, is called after every fetch with its outcome: the new credentials
	// and a nil error, or the zero Credentials and the error. It runs on the fetching
	// goroutine and must not block; it is meant for tests and metrics.
	OnRefresh func(creds.Credentials, error)
}

// DefaultAhead refreshes a quarter of an hour before expiry, or half-way through the
// lifetime of shorter-lived credentials: one-hour credentials are replaced at 15 minutes
// left (which is also when credential_process clients would run the helper again), 2-second
// test credentials at 1 second left.
func DefaultAhead(lifetime time.Duration) time.Duration {
	return min(15*time.Minute, lifetime/2)
}

// DefaultPermanent is true for a refused or locked PIN or password (plugins.ErrPINIncorrect,
// plugins.ErrPINLocked): every attempt counts toward the device's lockout, and DESIGN.md's
// security rules forbid retrying them automatically. Other errors (STS unreachable or
// throttling, a slow device, a crashed plugin) are retried with backoff.
func DefaultPermanent(err error) bool {
	return errors.Is(err, plugins.ErrPINIncorrect) || errors.Is(err, plugins.ErrPINLocked)
}

func (o *Options) setDefaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Ahead == nil {
		o.Ahead = DefaultAhead
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Minute
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = time.Minute
	}
	if o.Permanent == nil {
		o.Permanent = DefaultPermanent
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// sleep is the real Options.Sleep.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
