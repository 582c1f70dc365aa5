package rotate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sts"
)

// verify waits until STS accepts a request signed with the new key, backing off, at most
// Options.VerifyFor.
func (r *run) verify(ctx context.Context) error {
	k, err := r.key(r.j.NewKey)
	if err != nil {
		return err
	}
	client := sts.New(r.deriver(k), r.j.NewAccessKeyID, func(o *sts.Options) {
		o.Region, o.EndpointURL, o.HTTPClient, o.RetryMaxAttempts = r.s.Region, r.s.EndpointURL, r.http, 1
	})
	var id sts.Identity
	attempts, err := untilAccepted(ctx, r.o, func(ctx context.Context) error {
		var err error
		id, err = client.GetCallerIdentity(ctx)
		return err
	})
	if err != nil {
		return r.fail(fmt.Errorf("verify the new key %s with STS GetCallerIdentity: %w", r.j.NewAccessKeyID, err))
	}
	if r.j.UserName != "" && !strings.HasSuffix(id.ARN, "/"+r.j.UserName) {
		return r.fail(fmt.Errorf("the new key %s belongs to %s, not to user %s: check the IAM endpoint settings", r.j.NewAccessKeyID, id.ARN, r.j.UserName))
	}
	r.o.Logger.Info("STS accepts the new key", "access_key_id", r.j.NewAccessKeyID, "attempts", attempts)
	return r.save(StepVerified)
}

// Backoff of untilAccepted.
const (
	firstDelay = 500 * time.Millisecond
	maxDelay   = 8 * time.Second
)

// untilAccepted calls call until it succeeds, waiting firstDelay, then twice as long each
// time up to maxDelay, for at most o.VerifyFor in all; it returns how many calls it made.
// A failure of the device or its plugin, or the end of ctx, is not retried: only STS's
// refusal of a key it has not seen yet is worth waiting out.
func untilAccepted(ctx context.Context, o Options, call func(context.Context) error) (int, error) {
	deadline := o.Now().Add(o.VerifyFor)
	delay := firstDelay
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil || creds.ClassOf(err) == creds.ClassDevice || creds.ClassOf(err) == creds.ClassPlugin {
			return attempt, err
		}
		if o.Now().Add(delay).After(deadline) {
			return attempt, fmt.Errorf("%w: refused %d times in %v (IAM may still be propagating it); last: %w", ErrNotVerified, attempt, o.VerifyFor, err)
		}
		o.Logger.Info("the new key is not accepted yet; retrying", "attempt", attempt, "in", delay)
		if err := o.Sleep(ctx, delay); err != nil {
			return attempt, err
		}
		delay = min(2*delay, maxDelay)
	}
}
