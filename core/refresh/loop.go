package refresh

import (
	"errors"
	"time"
)

// maxNap bounds one wait of the loop. Timers run on the monotonic clock, which stops while
// the machine is suspended, while expiry is wall-clock time: waking at least once a minute
// notices a resume before the credentials run out, not a suspension's length later.
const maxNap = time.Minute

// loop refreshes the credentials when they are due, until Close. Every pass either waits
// (until the refresh is due or the next retry) or fetches, then looks again: a refresh done
// meanwhile by Retrieve moves the due time, and no fetch is wasted.
func (p *Provider) loop(done chan struct{}) {
	defer close(done)
	var (
		failures int
		retryAt  time.Time // after a failure, no new attempt before this
	)
	for {
		now := p.opts.Now()
		due, expires, ok := p.due(now)
		switch {
		case !ok: // credentials that do not expire: nothing to do until Close
			<-p.life.Done()
			return
		case due.After(now):
			failures, retryAt = 0, time.Time{}
			if !p.nap(due.Sub(now)) {
				return
			}
			continue
		case retryAt.After(now):
			if !p.nap(retryAt.Sub(now)) {
				return
			}
			continue
		}

		_, err := p.wait(p.life, p.fetch)
		switch {
		case err == nil:
			failures, retryAt = 0, time.Time{}
		case errors.Is(err, ErrClosed) || p.life.Err() != nil:
			return
		case p.opts.Permanent(err): // never retried: wait for Close
			<-p.life.Done()
			return
		default:
			failures++
			now = p.opts.Now()
			delay := p.backoff(failures)
			if left := expires.Sub(now); !expires.IsZero() && left > 0 && left < delay {
				delay = left
			}
			retryAt = now.Add(delay)
			p.opts.Logger.Debug("retrying credentials refresh", "attempt", failures+1, "in", delay)
		}
	}
}

// due returns when the held credentials should be replaced and when they expire (the zero
// time if there are none); ok is false for credentials that never expire.
func (p *Provider) due(now time.Time) (due, expires time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.have {
		return now, time.Time{}, true
	}
	expires = p.cur.Expiration
	if expires.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	ahead := max(p.opts.Ahead(p.lifetime), 0)
	due = expires.Add(-ahead)
	// An Ahead as long as the lifetime would refresh the moment credentials arrive, and
	// again, and again: leave at least RetryMin (or half the lifetime) between refreshes.
	if earliest := p.fetched.Add(min(p.opts.RetryMin, p.lifetime/2)); due.Before(earliest) {
		due = earliest
	}
	return due, expires, true
}

// backoff is RetryMin doubled for each failure after the first, capped at RetryMax.
func (p *Provider) backoff(failures int) time.Duration {
	d := p.opts.RetryMin
	for i := 1; i < failures && d < p.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, p.opts.RetryMax)
}

// nap waits for d, or for maxNap if that is shorter; false means Close was called.
func (p *Provider) nap(d time.Duration) bool {
	return p.opts.Sleep(p.life, min(d, maxNap)) == nil
}
