package sigv4

import (
	"crypto/sha256"
	"sync"
	"time"
)

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
// of the day), which is why it is not cached. To keep that window to the day itself, a key
// is zeroed and dropped when its date ends (a timer, so an idle process forgets it too) and
// every key is zeroed by close.
type keyCache struct {
	mu     sync.RWMutex
	keys   map[cacheKey]*cachedKey
	timer  *time.Timer // fires at the end of the earliest cached date
	closed bool

	now func() time.Time // default time.Now; tests set it
}

type cacheKey struct {
	date, region, service string
}

// cachedKey is kSigning and the end of its date.
type cachedKey struct {
	key     []byte
	expires time.Time
}

// get returns a copy of the cached key for k, which the caller zeroes after use: the cache
// may zero its own copy at any time. A key whose date has ended is zeroed and dropped.
func (c *keyCache) get(k cacheKey) ([]byte, bool) {
	now := c.clock()
	c.mu.RLock()
	e, ok := c.keys[k]
	if ok && now.Before(e.expires) {
		key := append([]byte(nil), e.key...)
		c.mu.RUnlock()
		return key, true
	}
	c.mu.RUnlock()
	if ok {
		c.mu.Lock()
		c.expireLocked()
		c.mu.Unlock()
	}
	return nil, false
}

// mac returns HMAC-SHA256(kSigning, data) with the cached key for k, computed under the
// read lock where the key lies, so that a cache hit makes no copy of it. ok is false when
// no key for k is cached or its date has ended (the key is then dropped).
func (c *keyCache) mac(k cacheKey, data string) (sum [sha256.Size]byte, ok bool) {
	now := c.clock()
	c.mu.RLock()
	e, found := c.keys[k]
	if found && now.Before(e.expires) {
		sum = hmacSum(e.key, data)
		c.mu.RUnlock()
		return sum, true
	}
	c.mu.RUnlock()
	if found {
		c.mu.Lock()
		c.expireLocked()
		c.mu.Unlock()
	}
	return sum, false
}

// put stores a copy of key. When the cache is full it first drops keys of other dates
// (they are useless once the date has moved on), then everything. A key whose date has
// already ended, or any key after close, is not stored.
func (c *keyCache) put(k cacheKey, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := dayEnd(k.date)
	if c.closed || !c.clock().Before(expires) {
		return
	}
	if c.keys == nil {
		c.keys = make(map[cacheKey]*cachedKey)
	}
	if old, ok := c.keys[k]; ok {
		clear(old.key)
	} else if len(c.keys) >= maxCachedKeys {
		for old, e := range c.keys {
			if old.date != k.date {
				clear(e.key)
				delete(c.keys, old)
			}
		}
		if len(c.keys) >= maxCachedKeys {
			c.dropAllLocked()
		}
	}
	c.keys[k] = &cachedKey{key: append([]byte(nil), key...), expires: expires}
	c.armLocked()
}

// cacheable reports whether a key for k would be stored now: the cache is open and k's
// date has not ended.
func (c *keyCache) cacheable(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	return !c.closed && c.clock().Before(dayEnd(k.date))
}

// close zeroes and drops every key and stops the timer; later puts store nothing.
func (c *keyCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.dropAllLocked()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// len is the number of cached keys (tests).
func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}

func (c *keyCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// expireLocked zeroes and drops the keys whose date has ended.
func (c *keyCache) expireLocked() {
	now := c.clock()
	for k, e := range c.keys {
		if !now.Before(e.expires) {
			clear(e.key)
			delete(c.keys, k)
		}
	}
}

func (c *keyCache) dropAllLocked() {
	for k, e := range c.keys {
		clear(e.key)
		delete(c.keys, k)
	}
}

// armLocked sets the timer to the end of the earliest cached date, so that keys are zeroed
// on time even when nothing is signed any more.
func (c *keyCache) armLocked() {
	var first time.Time
	for _, e := range c.keys {
		if first.IsZero() || e.expires.Before(first) {
			first = e.expires
		}
	}
	if first.IsZero() {
		return
	}
	wait := first.Sub(c.clock())
	if c.timer == nil {
		c.timer = time.AfterFunc(wait, c.onTimer)
		return
	}
	c.timer.Reset(wait)
}

func (c *keyCache) onTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.expireLocked()
	c.armLocked()
}

// dayEnd is the instant the signing date yyyymmdd (UTC) ends. An unparsable date (never
// produced by newScope) counts as ended.
func dayEnd(date string) time.Time {
	d, err := time.Parse(dateFormat, date)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 1)
}
