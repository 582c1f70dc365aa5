package cache

import (
	"context"

	"golang.org/x/sync/singleflight"

	"github.com/awskeep/awskeep/core/creds"
)

// Provider is the cache as a wrapper around any credential source: Retrieve answers from
// the cache while an entry has more than MinRemaining left, and otherwise asks Source once,
// however many goroutines (single-flight, in this process) and processes (the entry's file
// lock) ask at the same time.
type Provider struct {
	cache  *Cache
	key    Key
	source creds.Provider
	group  singleflight.Group
}

var _ creds.Provider = (*Provider)(nil)

// Wrap returns a Provider that caches source's credentials under k in c.
func Wrap(c *Cache, k Key, source creds.Provider) *Provider {
	return &Provider{cache: c, key: k, source: source}
}

// Retrieve returns cached credentials or fetches, stores and returns fresh ones. Errors of
// the cache itself are creds.ClassCache; the source's errors are returned as they are.
func (p *Provider) Retrieve(ctx context.Context) (creds.Credentials, error) {
	if cr, ok := p.cache.Get(p.key); ok {
		return cr, nil
	}
	v, err, _ := p.group.Do(p.key.id(), func() (any, error) {
		var sourceErr error
		cr, _, err := p.cache.GetOrFetch(ctx, p.key, func(ctx context.Context) (creds.Credentials, error) {
			cr, err := p.source.Retrieve(ctx)
			sourceErr = err
			return cr, err
		})
		if err != nil && sourceErr == nil {
			return nil, creds.Wrap(creds.ClassCache, "credential cache", err)
		}
		return cr, err
	})
	if err != nil {
		return creds.Credentials{}, err
	}
	return v.(creds.Credentials), nil
}
