package rotate

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// fakeClock is a clock whose Sleep advances Now and records the delays.
type fakeClock struct {
	now    time.Time
	delays []time.Duration
}

func (c *fakeClock) options(bound time.Duration) Options {
	return Options{VerifyFor: bound, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return c.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			c.delays = append(c.delays, d)
			c.now = c.now.Add(d)
			return nil
		}}
}

func TestUntilAccepted(t *testing.T) {
	refused := errors.New("STS GetCallerIdentity: InvalidClientTokenId")
	t.Run("accepted after three refusals, backing off", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(0, 0)}
		calls := 0
		n, err := untilAccepted(context.Background(), c.options(time.Minute), func(context.Context) error {
			if calls++; calls <= 3 {
				return refused
			}
			return nil
		})
		if err != nil || n != 4 {
			t.Fatalf("untilAccepted = %d, %v; want 4, nil", n, err)
		}
		if want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}; !slices.Equal(c.delays, want) {
			t.Fatalf("delays %v, want %v", c.delays, want)
		}
	})
	t.Run("bounded, delays capped", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(0, 0)}
		n, err := untilAccepted(context.Background(), c.options(time.Minute), func(context.Context) error { return refused })
		if !errors.Is(err, ErrNotVerified) || !errors.Is(err, refused) {
			t.Fatalf("error %v, want ErrNotVerified wrapping the last refusal", err)
		}
		var total time.Duration
		for _, d := range c.delays {
			total += d
			if d > maxDelay {
				t.Fatalf("a delay of %v, above %v", d, maxDelay)
			}
		}
		if total > time.Minute || n != len(c.delays)+1 || n < 5 {
			t.Fatalf("%d calls, %v waited (delays %v): want the minute used, not exceeded", n, total, c.delays)
		}
	})
	t.Run("a device failure is not retried", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(0, 0)}
		dev := creds.Wrap(creds.ClassDevice, "HMAC", errors.New("token removed"))
		n, err := untilAccepted(context.Background(), c.options(time.Minute), func(context.Context) error { return dev })
		if n != 1 || !errors.Is(err, dev) || len(c.delays) != 0 {
			t.Fatalf("untilAccepted = %d, %v after %v; want one call", n, err, c.delays)
		}
	})
}
