package sigv4

import "sync"

// maxCachedKeys bounds the cache. A signer normally talks to a handful of (region, service)
// pairs; the bound only matters for a long-running process that signs for many days or
// regions.
const maxCachedKeys = 64

// keyCache holds derived signing keys (kSigning), never kDate and never the secret, keyed by
// the credential scope they are valid for. It is safe for concurrent use.
//
// The trade-off: a cached kSigning saves a device round trip per request, but anyone who can
// read this process's memory can sign requests for that one date, region and service until
// the date changes, without the device. kDate would be worth more (every region and service
// of the day), which is why it is not cached.
type keyCache struct {
	mu   sync.Mutex
	keys map[cacheKey][]byte
}

type cacheKey struct {
	date, region, service string
}

func (c *keyCache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key, ok := c.keys[k]
	return key, ok
}

// put stores key. When the cache is full it first drops keys of other dates (they are
// useless once the date has moved on), then everything.
func (c *keyCache) put(k cacheKey, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = make(map[cacheKey][]byte)
	}
	if _, ok := c.keys[k]; !ok && len(c.keys) >= maxCachedKeys {
		for old := range c.keys {
			if old.date != k.date {
				delete(c.keys, old)
			}
		}
		if len(c.keys) >= maxCachedKeys {
			clear(c.keys)
		}
	}
	c.keys[k] = key
}
