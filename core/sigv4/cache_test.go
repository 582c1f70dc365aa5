package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

// countingDeriver counts the Deriver calls, i.e. the device round trips.
type countingDeriver struct {
	d     Deriver
	calls atomic.Int64
}

func (c *countingDeriver) DeriveDateKey(ctx context.Context, date string) ([]byte, error) {
	c.calls.Add(1)
	return c.d.DeriveDateKey(ctx, date)
}

func newTestRequest(t testing.TB) *http.Request {
	t.Helper()
	body := "Action=GetSessionToken&Version=2011-06-15"
	r, err := http.NewRequest(http.MethodPost, "https://sts.us-east-1.amazonaws.com/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return r
}

type scopeAt struct {
	t               time.Time
	region, service string
}

var day1 = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// beforeTestDates is a clock before every signing date the tests use, so that the cache
// keeps their keys (it drops a key once its date has ended by the clock).
func beforeTestDates() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// cachingSigner returns a Signer with the signing-key cache on and the cache's clock at
// beforeTestDates.
func cachingSigner(d Deriver) *Signer {
	s := New(d, func(o *Options) { o.CacheSigningKey = true })
	s.cache.now = beforeTestDates
	return s
}

func TestCacheGivesSameSignature(t *testing.T) {
	ctx := context.Background()
	creds := Credentials{AccessKeyID: "AKIDEXAMPLE"}
	cached := cachingSigner(SoftwareDeriver(testSecret))
	uncached := New(SoftwareDeriver(testSecret))
	for _, sc := range []scopeAt{
		{day1, "us-east-1", "sts"},
		{day1, "us-east-1", "sts"}, // served from the cache
		{day1.Add(11 * time.Hour), "us-east-1", "sts"},
		{day1.Add(12 * time.Hour), "us-east-1", "sts"}, // next day
		{day1, "eu-west-1", "sts"},
		{day1, "us-east-1", "iam"},
		{day1, "us-east-1", "sts"},
	} {
		a, b := newTestRequest(t), newTestRequest(t)
		if err := cached.SignHTTP(ctx, a, EmptyPayloadHash, creds, sc.service, sc.region, sc.t); err != nil {
			t.Fatal(err)
		}
		if err := uncached.SignHTTP(ctx, b, EmptyPayloadHash, creds, sc.service, sc.region, sc.t); err != nil {
			t.Fatal(err)
		}
		if got, want := a.Header.Get("Authorization"), b.Header.Get("Authorization"); got != want {
			t.Errorf("%v: cached signature %q, uncached %q", sc, got, want)
		}
	}
}

// TestCacheKeyedByScope: a change of date, region or service must reach the Deriver again,
// a repeat must not.
func TestCacheKeyedByScope(t *testing.T) {
	steps := []struct {
		name      string
		sc        scopeAt
		wantCalls int64 // cumulative
	}{
		{"first", scopeAt{day1, "us-east-1", "sts"}, 1},
		{"repeat", scopeAt{day1, "us-east-1", "sts"}, 1},
		{"same day later", scopeAt{day1.Add(11 * time.Hour), "us-east-1", "sts"}, 1},
		{"other date", scopeAt{day1.AddDate(0, 0, 1), "us-east-1", "sts"}, 2},
		{"other region", scopeAt{day1, "eu-west-1", "sts"}, 3},
		{"other service", scopeAt{day1, "us-east-1", "iam"}, 4},
		{"first again", scopeAt{day1, "us-east-1", "sts"}, 4},
		{"other date again", scopeAt{day1.AddDate(0, 0, 1), "us-east-1", "sts"}, 4},
	}
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := cachingSigner(d)
	for _, st := range steps {
		r := newTestRequest(t)
		if err := s.SignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, st.sc.service, st.sc.region, st.sc.t); err != nil {
			t.Fatal(err)
		}
		if got := d.calls.Load(); got != st.wantCalls {
			t.Fatalf("%s: %d Deriver calls so far, want %d", st.name, got, st.wantCalls)
		}
	}
}

func TestCacheOffDerivesEveryTime(t *testing.T) {
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := New(d)
	s.cache.now = beforeTestDates
	const n = 5
	for range n {
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1); err != nil {
			t.Fatal(err)
		}
	}
	// Presigning goes through the same path.
	if _, _, err := s.PresignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := d.calls.Load(); got != n+1 {
		t.Fatalf("%d Deriver calls, want %d", got, n+1)
	}
	// A per-call option turns the cache on for that call only.
	on := func(o *Options) { o.CacheSigningKey = true }
	for range 2 {
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, on); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.calls.Load(); got != n+2 {
		t.Fatalf("%d Deriver calls after two cached signings, want %d", got, n+2)
	}
}

// TestCacheStoresOnlySigningKey: what the cache holds is kSigning for its scope, never kDate.
func TestCacheStoresOnlySigningKey(t *testing.T) {
	s := cachingSigner(SoftwareDeriver(testSecret))
	if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "iam", "us-east-1", time.Date(2012, 2, 15, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if len(s.cache.keys) != 1 {
		t.Fatalf("cache holds %d keys, want 1", len(s.cache.keys))
	}
	got, ok := s.cache.get(cacheKey{date: "20120215", region: "us-east-1", service: "iam"})
	if !ok {
		t.Fatal("no key cached for 20120215/us-east-1/iam")
	}
	if want := awsDocSigningKey; fmt.Sprintf("%x", got) != want {
		t.Fatalf("cached key %x, want kSigning %s", got, want)
	}
}

func TestCacheBounded(t *testing.T) {
	s := cachingSigner(SoftwareDeriver(testSecret))
	for i := range 3 * maxCachedKeys {
		region := fmt.Sprintf("region-%d", i)
		when := day1.AddDate(0, 0, i/maxCachedKeys)
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", region, when); err != nil {
			t.Fatal(err)
		}
		if n := len(s.cache.keys); n > maxCachedKeys {
			t.Fatalf("cache grew to %d keys, bound is %d", n, maxCachedKeys)
		}
	}
}

// TestCacheConcurrent runs signers on one cache from many goroutines; with -race it checks
// the locking, and every signature must equal the uncached one.
func TestCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	cached := cachingSigner(SoftwareDeriver(testSecret))
	uncached := New(SoftwareDeriver(testSecret))
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	want := map[string]string{}
	for _, region := range regions {
		r := newTestRequest(t)
		if err := uncached.SignHTTP(ctx, r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", region, day1); err != nil {
			t.Fatal(err)
		}
		want[region] = r.Header.Get("Authorization")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				region := regions[(g+i)%len(regions)]
				r := newTestRequest(t)
				if err := cached.SignHTTP(ctx, r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", region, day1); err != nil {
					errs <- err
					return
				}
				if got := r.Header.Get("Authorization"); got != want[region] {
					errs <- fmt.Errorf("%s: got %q, want %q", region, got, want[region])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var errPINIncorrect = errors.New("PIN or password incorrect") // stands in for plugins.ErrPINIncorrect

func TestDeriverErrorPropagates(t *testing.T) {
	backendErr := fmt.Errorf("pkcs11: login to token %q: %w", "aws", errPINIncorrect)
	tests := []struct {
		name    string
		deriver Deriver
		wantIs  error
		wantMsg string
	}{
		{"backend sentinel", DeriverFunc(func(context.Context, string) ([]byte, error) { return nil, backendErr }), errPINIncorrect,
			`sigv4: derive date key: pkcs11: login to token "aws": PIN or password incorrect`},
		{"short MAC", DeriverFunc(func(context.Context, string) ([]byte, error) { return make([]byte, 20), nil }), nil,
			"sigv4: derive date key: got 20 bytes, want 32 (HMAC-SHA256): check the key backend"},
	}
	for _, tt := range tests {
		for _, cache := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cache=%v", tt.name, cache), func(t *testing.T) {
				s := New(tt.deriver, func(o *Options) { o.CacheSigningKey = cache })
				r := newTestRequest(t)
				err := s.SignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1)
				if err == nil || err.Error() != tt.wantMsg {
					t.Fatalf("SignHTTP error = %v, want %q", err, tt.wantMsg)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
				}
				if r.Header.Get("Authorization") != "" || r.Header.Get("X-Amz-Date") != "" {
					t.Error("request changed although signing failed")
				}
				if len(s.cache.keys) != 0 {
					t.Error("a failed derivation was cached")
				}
				_, _, err = s.PresignHTTP(context.Background(), r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, time.Minute)
				if err == nil || err.Error() != tt.wantMsg {
					t.Fatalf("PresignHTTP error = %v, want %q", err, tt.wantMsg)
				}
			})
		}
	}
}

func TestContextCanceledBeforeSigning(t *testing.T) {
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := cachingSigner(d)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newTestRequest(t)
	err := s.SignHTTP(ctx, r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SignHTTP error = %v, want context.Canceled", err)
	}
	if _, _, err := s.PresignHTTP(ctx, r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("PresignHTTP error = %v, want context.Canceled", err)
	}
	if d.calls.Load() != 0 {
		t.Error("the Deriver was called with a canceled context")
	}
	if r.Header.Get("Authorization") != "" {
		t.Error("request signed with a canceled context")
	}
}

// TestContextCanceledDuringDerive: a Deriver blocked on a device returns when the caller
// cancels, and the cancellation reaches the caller.
func TestContextCanceledDuringDerive(t *testing.T) {
	started := make(chan struct{})
	d := DeriverFunc(func(ctx context.Context, _ string) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, fmt.Errorf("yubihsm: sign hmac: %w", ctx.Err())
	})
	s := New(d)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	r := newTestRequest(t)
	err := s.SignHTTP(ctx, r, EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SignHTTP error = %v, want context.Canceled", err)
	}
	if !strings.HasPrefix(err.Error(), "sigv4: derive date key: ") {
		t.Errorf("error %q lacks the sigv4 prefix", err)
	}
	if r.Header.Get("Authorization") != "" {
		t.Error("request signed although derivation was canceled")
	}
}

// TestCacheForgetsKeyWhenItsDayEnds: a key of a date that has ended is zeroed and dropped,
// on the next use and, for an idle process, by the timer.
func TestCacheForgetsKeyWhenItsDayEnds(t *testing.T) {
	var mu sync.Mutex
	now := day1 // 2015-08-30 12:36 UTC
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := New(d, func(o *Options) { o.CacheSigningKey = true })
	s.cache.now = clock
	sign := func(at time.Time) {
		t.Helper()
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	sign(day1)
	s.cache.mu.Lock()
	held := s.cache.keys[cacheKey{"20150830", "us-east-1", "sts"}].key
	s.cache.mu.Unlock()
	sign(day1)
	if got := d.calls.Load(); got != 1 {
		t.Fatalf("%d Deriver calls within the day, want 1", got)
	}

	mu.Lock()
	now = time.Date(2015, 8, 31, 0, 0, 0, 0, time.UTC) // the day has ended
	mu.Unlock()
	// A request signed with a clock that lags behind still names the old date: it must go
	// to the device again, not use the forgotten key.
	sign(day1)
	if got := d.calls.Load(); got != 2 {
		t.Fatalf("%d Deriver calls after the day ended, want 2", got)
	}
	if !allZero(held) {
		t.Fatal("the ended day's key was dropped but not zeroed")
	}
	if n := s.cache.len(); n != 0 {
		t.Fatalf("cache holds %d keys of an ended day", n)
	}
}

func TestCacheTimerZeroesIdleKeys(t *testing.T) {
	// The clock says the date ends in 50ms; nothing signs after that.
	start := time.Now()
	date := start.UTC().Format(dateFormat)
	end := dayEnd(date)
	offset := end.Sub(start) - 50*time.Millisecond
	s := New(SoftwareDeriver(testSecret), func(o *Options) { o.CacheSigningKey = true })
	s.cache.now = func() time.Time { return time.Now().Add(offset) }
	if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", start); err != nil {
		t.Fatal(err)
	}
	s.cache.mu.Lock()
	var held []byte
	for _, v := range s.cache.keys {
		held = v.key
	}
	s.cache.mu.Unlock()
	if held == nil {
		t.Fatal("nothing cached")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.cache.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the timer did not drop the key of the ended day")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if !allZero(held) {
		t.Fatal("the timer dropped the key without zeroing it")
	}
}

func TestCloseZeroesKeys(t *testing.T) {
	d := &countingDeriver{d: SoftwareDeriver(testSecret)}
	s := cachingSigner(d)
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", region, day1); err != nil {
			t.Fatal(err)
		}
	}
	s.cache.mu.Lock()
	var held [][]byte
	for _, v := range s.cache.keys {
		held = append(held, v.key)
	}
	s.cache.mu.Unlock()
	s.Close()
	for _, k := range held {
		if !allZero(k) {
			t.Fatal("Close left a signing key in memory")
		}
	}
	// After Close the signer still signs, but asks the device every time.
	for range 2 {
		if err := s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.calls.Load(); got != 4 {
		t.Fatalf("%d Deriver calls, want 4 (2 before Close, 1 per signing after)", got)
	}
	if n := s.cache.len(); n != 0 {
		t.Fatalf("closed cache holds %d keys", n)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return len(b) > 0
}

// TestCacheConcurrentMissesDeriveOnce: goroutines that miss the cache for one scope at the
// same moment make one device call between them.
func TestCacheConcurrentMissesDeriveOnce(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	slow := DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		calls.Add(1)
		<-release
		return SoftwareDeriver(testSecret).DeriveDateKey(ctx, date)
	})
	s := cachingSigner(slow)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.SignHTTP(context.Background(), newTestRequest(t), EmptyPayloadHash, Credentials{AccessKeyID: "AKID"}, "sts", "us-east-1", day1)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all miss
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("%d device calls for %d concurrent misses of one scope, want 1", got, n)
	}
}
