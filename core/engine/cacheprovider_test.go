package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
)

// TestCacheProvider checks the cache as New uses it, around a counting source: one fetch
// for many concurrent callers, hits afterwards, errors passed through with their class.
func TestCacheProvider(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	fresh := creds.Credentials{AccessKeyID: "ASIAFRESHEXAMPLE", SecretAccessKey: "secret", SessionToken: "token",
		Expiration: now.Add(time.Hour).UTC().Truncate(time.Second)}
	stsErr := creds.Wrap(creds.ClassSTS, "STS GetSessionToken", errors.New("access denied"))
	key := cache.Key{KeyURI: "pkcs11:token=aws;object=prod", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Duration: time.Hour, Region: "us-east-1"}

	tests := []struct {
		name       string
		key        cache.Key
		answer     creds.Credentials
		err        error
		callers    int
		wantCalls  int64 // source calls after every caller and one more Retrieve
		wantClass  creds.Class
		wantErrIs  error
		wantAnswer bool
	}{
		{name: "one fetch for concurrent callers", key: key, answer: fresh, callers: 8, wantCalls: 1, wantAnswer: true},
		{name: "source error passes through and is not stored", key: key, err: stsErr, callers: 1, wantCalls: 2,
			wantClass: creds.ClassSTS, wantErrIs: stsErr},
		{name: "credentials about to expire are returned but not reused", key: key, callers: 1, wantCalls: 2, wantAnswer: true,
			answer: creds.Credentials{AccessKeyID: "ASIASHORTEXAMPLE", SecretAccessKey: "s", SessionToken: "t",
				Expiration: now.Add(10 * time.Minute).UTC().Truncate(time.Second)}},
		{name: "key with a pin-value is refused before the source", callers: 1, wantCalls: 0, wantClass: creds.ClassCache,
			key: cache.Key{KeyURI: "pkcs11:token=aws?pin-value=1234", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, answer: fresh,
			wantErrIs: cache.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cache.Open(func(o *cache.Options) { o.Dir = filepath.Join(t.TempDir(), "cache") })
			if err != nil {
				t.Fatalf("cache.Open: %v", err)
			}
			var calls atomic.Int64
			release := make(chan struct{})
			source := creds.ProviderFunc(func(ctx context.Context) (creds.Credentials, error) {
				calls.Add(1)
				<-release // hold every caller in flight together
				return tt.answer, tt.err
			})
			p := cache.Wrap(c, tt.key, source)

			var wg sync.WaitGroup
			results := make([]creds.Credentials, tt.callers)
			errs := make([]error, tt.callers)
			for i := range tt.callers {
				wg.Go(func() { results[i], errs[i] = p.Retrieve(ctx) })
			}
			time.Sleep(50 * time.Millisecond)
			close(release)
			wg.Wait()
			for i := range tt.callers {
				checkRetrieve(t, results[i], errs[i], tt.answer, tt.wantAnswer, tt.wantClass, tt.wantErrIs)
			}
			// One more: a hit when something usable was stored, else another fetch.
			got, err := p.Retrieve(ctx)
			checkRetrieve(t, got, err, tt.answer, tt.wantAnswer, tt.wantClass, tt.wantErrIs)
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("source called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

func checkRetrieve(t *testing.T, got creds.Credentials, err error, want creds.Credentials, wantAnswer bool, class creds.Class, is error) {
	t.Helper()
	if wantAnswer {
		if err != nil {
			t.Errorf("Retrieve: %v", err)
			return
		}
		if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
			got.SessionToken != want.SessionToken || !got.Expiration.Equal(want.Expiration) {
			t.Errorf("Retrieve = %#v, want %#v", got, want)
		}
		return
	}
	if err == nil {
		t.Errorf("Retrieve = %#v, want an error", got)
		return
	}
	if c := creds.ClassOf(err); c != class {
		t.Errorf("class = %v, want %v (%v)", c, class, err)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %q is not %v", err, is)
	}
}
