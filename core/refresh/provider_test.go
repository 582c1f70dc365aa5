package refresh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/plugins"
)

// fakeSource hands out numbered credentials that live for lifetime from its clock's now.
type fakeSource struct {
	now      func() time.Time
	lifetime time.Duration
	fail     int           // the first fail calls return errFake
	block    chan struct{} // if set, each call waits for it to be closed (or for its ctx)

	mu       sync.Mutex
	calls    int
	times    []time.Time
	ctxErrAt []error // each call's ctx.Err() when it returned
}

var errFake = creds.Wrap(creds.ClassSTS, "STS GetSessionToken", errors.New("throttled"))

func (s *fakeSource) Retrieve(ctx context.Context) (creds.Credentials, error) {
	s.mu.Lock()
	s.calls++
	n, fail := s.calls, s.fail
	s.times = append(s.times, s.now())
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.ctxErrAt = append(s.ctxErrAt, ctx.Err())
		s.mu.Unlock()
	}()
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return creds.Credentials{}, ctx.Err()
		}
	}
	if n <= fail {
		return creds.Credentials{}, errFake
	}
	return creds.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAFAKE%06d", n),
		SecretAccessKey: fmt.Sprintf("secret-%06d", n),
		SessionToken:    fmt.Sprintf("token-%06d", n),
		Expiration:      s.now().Add(s.lifetime),
	}, nil
}

func (s *fakeSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func withClock(f *fakeClock) func(*Options) {
	return func(o *Options) { o.Now, o.Sleep = f.Now, f.Sleep }
}

func TestFirstRetrieveFetchesThenHolds(t *testing.T) {
	clock := newFakeClock()
	src := &fakeSource{now: clock.Now, lifetime: time.Hour}
	p := New(src, withClock(clock))
	defer p.Close()

	first, err := p.Retrieve(context.Background())
	if err != nil || first.AccessKeyID != "ASIAFAKE000001" {
		t.Fatalf("first Retrieve = %v, %v", first, err)
	}
	clock.set(clock.Now().Add(59 * time.Minute))
	if again, err := p.Retrieve(context.Background()); err != nil || again != first || src.count() != 1 {
		t.Fatalf("second Retrieve = %v, %v after %d fetches; want the held credentials", again, err, src.count())
	}
	// Without the loop, expired credentials are replaced synchronously.
	clock.set(clock.Now().Add(time.Minute))
	if third, err := p.Retrieve(context.Background()); err != nil || third.AccessKeyID != "ASIAFAKE000002" {
		t.Fatalf("Retrieve after expiry = %v, %v", third, err)
	}
}

func TestConcurrentRetrievesShareOneFetch(t *testing.T) {
	src := &fakeSource{now: time.Now, lifetime: time.Hour, block: make(chan struct{})}
	p := New(src)
	defer p.Close()

	const n = 100
	var started, finished sync.WaitGroup
	got := make([]creds.Credentials, n)
	errs := make([]error, n)
	for i := range n {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			started.Done()
			got[i], errs[i] = p.Retrieve(context.Background())
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them all reach the flight; late ones find it done
	close(src.block)
	finished.Wait()
	for i := range n {
		if errs[i] != nil || got[i].AccessKeyID != "ASIAFAKE000001" {
			t.Fatalf("caller %d: %v, %v", i, got[i], errs[i])
		}
	}
	if c := src.count(); c != 1 {
		t.Fatalf("the source was called %d times, want 1", c)
	}
}

func TestBackgroundRefreshBeforeExpiry(t *testing.T) {
	clock := newFakeClock()
	src := &fakeSource{now: clock.Now, lifetime: time.Hour}
	var refreshed atomic.Int32
	p := New(src, withClock(clock), func(o *Options) {
		o.OnRefresh = func(_ creds.Credentials, err error) {
			if err == nil {
				refreshed.Add(1)
			}
		}
	})
	defer p.Close()
	p.Start()
	clock.waitSleep(t) // the first fetch is done; the loop waits for the refresh

	start := clock.Now()
	const hours = 5
	for m := 1; m <= hours*60; m++ {
		clock.runUntil(t, start.Add(time.Duration(m)*time.Minute))
		calls := src.count()
		c, err := p.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("minute %d: %v", m, err)
		}
		if left := c.Remaining(clock.Now()); left < 15*time.Minute {
			t.Fatalf("minute %d: a request got credentials with %v left; they should have been refreshed at 15 min", m, left)
		}
		if src.count() != calls {
			t.Fatalf("minute %d: a request called the source", m)
		}
		// One fetch per 45-minute cycle, at its start.
		if want := 1 + m/45; src.count() != want {
			t.Fatalf("minute %d: %d fetches, want %d", m, src.count(), want)
		}
	}
	if got, want := int(refreshed.Load()), 1+hours*60/45; got != want {
		t.Fatalf("OnRefresh saw %d refreshes, want %d", got, want)
	}
}

func TestBackoffAfterFailure(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		fail     int // failures after the first success (or from the start if okFirst is false)
		okFirst  bool
		min, max time.Duration
		want     []time.Duration // the loop's waits, in order
	}{
		{
			name: "doubling capped at RetryMax", lifetime: time.Hour, fail: 4, min: time.Second, max: 4 * time.Second,
			// 4 failures, then success and a wait for the refresh (in naps of at most a minute)
			want: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, maxNap},
		},
		{
			name: "never past expiry", lifetime: 10 * time.Second, fail: 3, okFirst: true, min: 4 * time.Second, max: time.Minute,
			// success (refresh due at 5 s left), failure with 5 s left: 4 s; with 1 s left: 1 s; expired: 16 s
			want: []time.Duration{5 * time.Second, 4 * time.Second, time.Second, 16 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			src := &fakeSource{now: clock.Now, lifetime: tc.lifetime}
			var outcomes []string
			var mu sync.Mutex
			p := New(src, withClock(clock), func(o *Options) {
				o.RetryMin, o.RetryMax = tc.min, tc.max
				o.OnRefresh = func(c creds.Credentials, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						if !errors.Is(err, errFake) || creds.ClassOf(err) != creds.ClassSTS {
							t.Errorf("the source's error lost its identity: %v", err)
						}
						outcomes = append(outcomes, "fail")
					} else {
						outcomes = append(outcomes, "ok")
					}
				}
			})
			defer p.Close()
			if tc.okFirst {
				if _, err := p.Retrieve(context.Background()); err != nil {
					t.Fatal(err)
				}
				src.mu.Lock()
				src.fail = 1 + tc.fail // the calls after the first fail
				src.mu.Unlock()
			} else {
				src.fail = tc.fail // before Start: no fetch yet
			}
			p.Start()
			for i, want := range tc.want {
				got := clock.waitSleep(t)
				if got != want {
					t.Fatalf("wait %d = %v, want %v (all: %v)", i, got, want, tc.want)
				}
				if i < len(tc.want)-1 {
					clock.set(clock.Now().Add(got))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if n := strings.Count(strings.Join(outcomes, " "), "fail"); n != tc.fail {
				t.Fatalf("outcomes %v, want %d failures", outcomes, tc.fail)
			}
		})
	}
}

// settleGoroutines waits until no more than n goroutines run.
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines remain, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseStopsTheLoop(t *testing.T) {
	settleGoroutines(t, runtime.NumGoroutine()) // let earlier tests' goroutines end
	before := runtime.NumGoroutine()

	src := &fakeSource{now: time.Now, lifetime: time.Hour}
	fetched := make(chan struct{}, 1)
	p := New(src, func(o *Options) {
		o.OnRefresh = func(creds.Credentials, error) {
			select {
			case fetched <- struct{}{}:
			default:
			}
		}
	})
	p.Start()
	p.Start() // a second Start starts nothing
	<-fetched
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if runtime.NumGoroutine() <= before {
		t.Fatal("Start started no goroutine")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	settleGoroutines(t, before)

	if _, err := p.Retrieve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Retrieve after Close = %v, want ErrClosed", err)
	}
	p.mu.Lock()
	held := p.cur
	p.mu.Unlock()
	if held != (creds.Credentials{}) {
		t.Fatal("Close kept the credentials")
	}
	if err := p.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	p.Start() // after Close: nothing
	settleGoroutines(t, before)
}

func TestCloseInterruptsAFetch(t *testing.T) {
	before := runtime.NumGoroutine()
	src := &fakeSource{now: time.Now, lifetime: time.Hour, block: make(chan struct{})} // never released
	p := New(src)
	p.Start()
	errc := make(chan error, 1)
	go func() {
		_, err := p.Retrieve(context.Background())
		errc <- err
	}()
	for src.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a fetch in flight")
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("a waiting Retrieve got %v, want ErrClosed", err)
	}
	settleGoroutines(t, before)
}

func TestCancelledCallerDoesNotCancelTheFetch(t *testing.T) {
	src := &fakeSource{now: time.Now, lifetime: time.Hour, block: make(chan struct{})}
	p := New(src)
	defer p.Close()

	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := p.Retrieve(ctxA)
		errA <- err
	}()
	type result struct {
		c   creds.Credentials
		err error
	}
	resB := make(chan result, 1)
	for src.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		c, err := p.Retrieve(context.Background())
		resB <- result{c, err}
	}()

	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled caller got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled caller still waits")
	}
	close(src.block)
	r := <-resB
	if r.err != nil || r.c.AccessKeyID != "ASIAFAKE000001" {
		t.Fatalf("the other caller got %v, %v", r.c, r.err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.calls != 1 || src.ctxErrAt[0] != nil {
		t.Fatalf("%d fetches; the fetch's context ended with %v", src.calls, src.ctxErrAt[0])
	}
}

func TestFetchTimeout(t *testing.T) {
	src := &fakeSource{now: time.Now, lifetime: time.Hour, block: make(chan struct{})}
	p := New(src, func(o *Options) { o.FetchTimeout = 20 * time.Millisecond })
	defer p.Close()
	if _, err := p.Retrieve(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Retrieve = %v, want the fetch's deadline", err)
	}
}

func TestRefusesUnusableCredentials(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    creds.Credentials
		want string
	}{
		{"expired", creds.Credentials{AccessKeyID: "ASIAOLD", SecretAccessKey: "s3cr3t", Expiration: now}, "expired"},
		{"incomplete", creds.Credentials{AccessKeyID: "ASIAHALF", Expiration: now.Add(time.Hour)}, "incomplete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(creds.ProviderFunc(func(context.Context) (creds.Credentials, error) { return tc.c, nil }),
				func(o *Options) { o.Now = func() time.Time { return now } })
			defer p.Close()
			_, err := p.Retrieve(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("Retrieve = %v, want an error saying %q without the secret", err, tc.want)
			}
		})
	}
}

func TestLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	src := &fakeSource{now: clock.Now, lifetime: time.Hour, fail: 1}
	p := New(src, withClock(clock), func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	defer p.Close()
	if _, err := p.Retrieve(context.Background()); !errors.Is(err, errFake) {
		t.Fatalf("first Retrieve = %v, want the source's error", err)
	}
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// The first failure went to its caller and is not logged a second time (no
	// credentials were held); the success is one info line.
	if strings.Count(out, "\n") != 1 || strings.Contains(out, `"level":"WARN"`) ||
		!strings.Contains(out, "ASIAFAKE000002") || !strings.Contains(out, "2026-11-30T13:00:00Z") {
		t.Fatalf("want one info line with the key id and expiry and no warning, got:\n%s", out)
	}
	if strings.Contains(out, "secret-") || strings.Contains(out, "token-") {
		t.Fatalf("the log holds a secret:\n%s", out)
	}
}

// TestRealTimeShortLivedCredentials is the property the servers rely on, with real time
// and real timers: with 2-second credentials, refreshed by the loop at 1 second left, no
// request ever gets expired credentials or an error.
func TestRealTimeShortLivedCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 5 seconds")
	}
	src := &fakeSource{now: time.Now, lifetime: 2 * time.Second}
	p := New(src)
	p.Start()
	defer p.Close()

	const workers, run = 50, 5 * time.Second
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	stop := time.Now().Add(run)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				c, err := p.Retrieve(context.Background())
				requests.Add(1)
				switch {
				case err != nil:
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				case !c.Expiration.After(time.Now()):
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, "expired: "+c.String())
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", failures.Load(), requests.Load(), firstFailure.Load())
	}
	src.mu.Lock()
	times := src.times
	src.mu.Unlock()
	if len(times) < 4 || len(times) > 8 {
		t.Fatalf("the source was called %d times in %v, want about once a second", len(times), run)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 800*time.Millisecond || gap > 1600*time.Millisecond {
			t.Errorf("fetch %d came %v after the previous one, want about 1 s", i+1, gap)
		}
	}
	t.Logf("%d requests, %d fetches", requests.Load(), len(times))
}

// pinSource succeeds once, then refuses the PIN, as a device whose PIN was changed would.
type pinSource struct {
	now   func() time.Time
	calls atomic.Int32
}

var errWrongPIN = creds.Wrap(creds.ClassDevice, "HMAC", plugins.ErrPINIncorrect)

func (s *pinSource) Retrieve(context.Context) (creds.Credentials, error) {
	if s.calls.Add(1) == 1 {
		return creds.Credentials{AccessKeyID: "ASIAPIN", SecretAccessKey: "x", Expiration: s.now().Add(time.Hour)}, nil
	}
	return creds.Credentials{}, errWrongPIN
}

// TestWrongPINIsNeverRetried checks DESIGN.md's rule that wrong PINs and passwords are
// never retried automatically: each attempt counts toward the device's lockout.
func TestWrongPINIsNeverRetried(t *testing.T) {
	t.Run("background refresh", func(t *testing.T) {
		clock := newFakeClock()
		src := &pinSource{now: clock.Now}
		p := New(src, withClock(clock))
		defer p.Close()
		p.Start()
		clock.waitSleep(t) // first fetch done
		due := clock.Now().Add(45 * time.Minute)
		clock.runUntil(t, due.Add(-time.Second))
		clock.set(due) // the refresh is refused
		for deadline := time.Now().Add(5 * time.Second); src.calls.Load() < 2; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no refresh at 15 minutes left")
			}
		}
		select {
		case d := <-clock.slept:
			t.Fatalf("the loop schedules a retry in %v after a wrong PIN", d)
		case <-time.After(50 * time.Millisecond):
		}
		// The held credentials are served until they expire, then the error, with no call.
		if c, err := p.Retrieve(context.Background()); err != nil || c.AccessKeyID != "ASIAPIN" {
			t.Fatalf("before expiry: %v, %v", c, err)
		}
		clock.set(clock.Now().Add(time.Hour))
		for range 3 {
			if _, err := p.Retrieve(context.Background()); !errors.Is(err, plugins.ErrPINIncorrect) || creds.ClassOf(err) != creds.ClassDevice {
				t.Fatalf("after expiry: %v, want the PIN error", err)
			}
		}
		if n := src.calls.Load(); n != 2 {
			t.Fatalf("%d calls, want 2", n)
		}
	})
	t.Run("synchronous fetch", func(t *testing.T) {
		src := &pinSource{now: time.Now}
		src.calls.Store(1) // refuse from the first call
		p := New(src)
		defer p.Close()
		for range 3 {
			if _, err := p.Retrieve(context.Background()); !errors.Is(err, plugins.ErrPINIncorrect) {
				t.Fatalf("Retrieve = %v", err)
			}
		}
		p.Start()
		time.Sleep(20 * time.Millisecond)
		if n := src.calls.Load(); n != 2 {
			t.Fatalf("the source was called %d times after a wrong PIN, want once", n-1)
		}
	})
	t.Run("other errors are retried", func(t *testing.T) {
		if DefaultPermanent(errFake) || DefaultPermanent(context.DeadlineExceeded) || !DefaultPermanent(fmt.Errorf("x: %w", plugins.ErrPINLocked)) {
			t.Fatal("DefaultPermanent misclassifies")
		}
	})
}
