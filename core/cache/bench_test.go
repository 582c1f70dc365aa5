package cache

import (
	"context"
	"github.com/awskeep/awskeep/core/creds"
	"testing"
	"time"
)

// BenchmarkGetHit measures the hit path credential-process takes on every invocation but
// the first: open, fstat, read and parse one file, compare the expiry. No lock.
func BenchmarkGetHit(b *testing.B) {
	c, err := Open(func(o *Options) { o.Dir = b.TempDir() + "/awskeep" })
	if err != nil {
		b.Fatal(err)
	}
	k := testKey()
	if err := c.Put(context.Background(), k, testCreds(time.Now().Add(time.Hour))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkGetOrFetchMiss measures a miss: failed lookup, lock, second lookup, an
// instantaneous fetch, and the atomic store (write, fsync, rename, directory fsync). The
// fetched credentials are short-lived, so every iteration misses again.
func BenchmarkGetOrFetchMiss(b *testing.B) {
	c, err := Open(func(o *Options) { o.Dir = b.TempDir() + "/awskeep" })
	if err != nil {
		b.Fatal(err)
	}
	k := testKey()
	fetch := func(context.Context) (creds.Credentials, error) { return testCreds(time.Now().Add(time.Minute)), nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, hit, err := c.GetOrFetch(ctx, k, fetch); err != nil || hit {
			b.Fatal(hit, err)
		}
	}
}
