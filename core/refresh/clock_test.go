package refresh

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is Options.Now and Options.Sleep for tests: time moves only when the test moves
// it, and every Sleep call is reported on slept, so a test knows when the loop is waiting.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
	slept    chan time.Duration
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), slept: make(chan time.Duration, 1000)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	s := &sleeper{until: f.now.Add(d), wake: make(chan struct{})}
	f.sleepers = append(f.sleepers, s)
	f.mu.Unlock()
	f.slept <- d
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		f.sleepers = slices.DeleteFunc(f.sleepers, func(x *sleeper) bool { return x == s })
		f.mu.Unlock()
		return ctx.Err()
	}
}

// set moves the clock to t and wakes the sleepers that are due.
func (f *fakeClock) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	f.sleepers = slices.DeleteFunc(f.sleepers, func(s *sleeper) bool {
		if s.until.After(t) {
			return false
		}
		close(s.wake)
		return true
	})
}

// nextWake is the earliest time a sleeper waits for.
func (f *fakeClock) nextWake() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sleepers) == 0 {
		return time.Time{}, false
	}
	first := f.sleepers[0].until
	for _, s := range f.sleepers[1:] {
		if s.until.Before(first) {
			first = s.until
		}
	}
	return first, true
}

// waitSleep waits until the loop calls Sleep and returns the duration it asked for.
func (f *fakeClock) waitSleep(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.slept:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the loop never went to sleep")
		return 0
	}
}

// runUntil moves the clock to target, stopping at every wake-up of the loop on the way and
// waiting until it sleeps again, so that whatever the loop does in between (a fetch) happens
// at the time it was due. The loop must be asleep when runUntil is called.
func (f *fakeClock) runUntil(t *testing.T, target time.Time) {
	t.Helper()
	for {
		wake, ok := f.nextWake()
		if !ok {
			t.Fatal("runUntil: the loop is not asleep")
		}
		if wake.After(target) {
			f.set(target)
			return
		}
		f.set(wake)
		f.waitSleep(t)
	}
}
