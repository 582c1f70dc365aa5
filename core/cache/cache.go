package cache

import (
	"context"
	"errors"
	"fmt"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/internal/flock"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DefaultMinRemaining is how much lifetime an entry must have left to be used: the
// credential_process contract has clients run the helper again when fewer than 15 minutes
// remain, so handing them such credentials would only make them ask again at once.
const DefaultMinRemaining = 15 * time.Minute

// DefaultLockTimeout bounds how long GetOrFetch and Put wait for another process that is
// fetching the same key. The caller's context usually ends the wait first.
const DefaultLockTimeout = time.Minute

// Options configure a Cache. The zero value of every field selects its default.
type Options struct {
	// Dir is the cache directory; default DefaultDir(). It is created with mode 0700 and
	// refused (ErrInsecureDir) if it is open to group or others or owned by another user.
	Dir string
	// MinRemaining is the lifetime an entry must have left, strictly, to be used;
	// zero or negative selects DefaultMinRemaining.
	MinRemaining time.Duration
	// LockTimeout bounds the wait for another process's lock on the same key; default
	// DefaultLockTimeout; negative waits as long as the context allows.
	LockTimeout time.Duration
	// Now is the clock entries' expiry is compared with; default time.Now.
	Now func() time.Time
	// Logger receives, at debug level, hits, misses and why an entry was discarded, and,
	// at warn level, a failure to store fetched credentials. Nil logs nothing. Secrets are
	// never logged.
	Logger *slog.Logger
}

// Cache is a directory of cached credentials. It is safe for concurrent use by goroutines
// and by processes sharing the directory.
type Cache struct {
	dir          string
	minRemaining time.Duration
	lockTimeout  time.Duration
	now          func() time.Time
	log          *slog.Logger
	uid          int
	// lockBusy, if set, is called each time lock finds the lock held by someone else (tests
	// use it to know that a caller is really waiting).
	lockBusy func()
}

// Open returns the cache in Options.Dir, creating the directory if needed and checking
// that it is private to the user.
func Open(optFns ...func(*Options)) (*Cache, error) {
	if !supported {
		return nil, fmt.Errorf("cache: %s: %w; use --no-cache", runtime.GOOS, ErrUnsupported)
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		o.Dir = d
	}
	if o.MinRemaining <= 0 {
		o.MinRemaining = DefaultMinRemaining
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{
		dir:          filepath.Clean(o.Dir),
		minRemaining: o.MinRemaining,
		lockTimeout:  o.LockTimeout,
		now:          o.Now,
		log:          o.Logger,
		uid:          os.Getuid(),
	}
	if err := ensureDir(c.dir, c.uid); err != nil {
		return nil, err
	}
	return c, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// status is the outcome of looking up an entry.
type status int

const (
	found   status = iota // valid, and more than minRemaining left
	absent                // no file
	stale                 // valid, but too little lifetime left
	invalid               // present but not trustworthy; reason says why
)

// lookup reads and checks one entry file. It takes no lock: entries are replaced by
// rename, so the file it opens is always a complete entry of some writer.
func (c *Cache) lookup(k Key, path string) (creds.Credentials, status, error) {
	data, meta, err := readEntryFile(path, maxEntrySize)
	if errors.Is(err, fs.ErrNotExist) {
		return creds.Credentials{}, absent, nil
	}
	if err != nil {
		return creds.Credentials{}, invalid, err
	}
	if err := checkEntryFile(meta, c.uid); err != nil {
		return creds.Credentials{}, invalid, err
	}
	e, err := decodeEntry(data)
	if err != nil {
		return creds.Credentials{}, invalid, err
	}
	if e.key != k {
		return creds.Credentials{}, invalid, errors.New("written for a different key")
	}
	if e.cr.Expiration.Sub(c.now()) <= c.minRemaining {
		return e.cr, stale, nil
	}
	return e.cr, found, nil
}

// report logs a lookup's outcome at debug level. Only the entry's path (a hash), the
// access key id, the expiry and fixed reason texts are logged.
func (c *Cache) report(path string, st status, cr creds.Credentials, reason error) {
	switch st {
	case found:
		c.log.Debug("cache hit", "entry", path, "credentials", cr)
	case absent:
		c.log.Debug("cache miss: no entry", "entry", path)
	case stale:
		c.log.Debug("cache miss: entry expires too soon", "entry", path, "credentials", cr, "min_remaining", c.minRemaining)
	case invalid:
		c.log.Debug("cache miss: entry discarded", "entry", path, "reason", reason.Error())
	}
}

func (c *Cache) entryPath(id string) string { return filepath.Join(c.dir, id+".json") }
func (c *Cache) lockPath(id string) string  { return filepath.Join(c.dir, id+".lock") }

// Get returns the cached credentials for k if an entry exists, can be trusted and has more
// than MinRemaining left. It reads one file and takes no lock; it never deletes an entry,
// since without the lock it could delete one another process has just written.
func (c *Cache) Get(k Key) (creds.Credentials, bool) {
	if err := k.validate(); err != nil {
		c.log.Debug("cache miss: key refused", "reason", err.Error())
		return creds.Credentials{}, false
	}
	path := c.entryPath(k.id())
	cr, st, reason := c.lookup(k, path)
	c.report(path, st, cr, reason)
	if st != found {
		return creds.Credentials{}, false
	}
	return cr, true
}

// GetOrFetch returns the cached credentials for k (hit true) or, on a miss, calls fetch
// once across all processes sharing the cache directory, stores its result and returns it
// (hit false).
//
// A hit reads one file and takes no lock. On a miss it takes k's file lock, waiting as ctx
// and Options.LockTimeout allow, and looks again: if another process stored credentials
// meanwhile, those are returned with hit true and fetch is not called. An untrustworthy
// entry is removed under the lock.
//
// An error of fetch is returned as is and nothing is stored. Fetched credentials are
// stored even when they have MinRemaining or less left (they are returned, and simply
// never hit). A failure to store them is logged at warn level and does not fail the call:
// the caller has valid credentials, and the next call fetches again.
func (c *Cache) GetOrFetch(ctx context.Context, k Key, fetch func(ctx context.Context) (creds.Credentials, error)) (cr creds.Credentials, hit bool, err error) {
	if err := k.validate(); err != nil {
		return creds.Credentials{}, false, err
	}
	id := k.id()
	path := c.entryPath(id)
	cr, st, reason := c.lookup(k, path)
	c.report(path, st, cr, reason)
	if st == found {
		return cr, true, nil
	}

	l, err := c.lock(ctx, c.lockPath(id))
	if err != nil {
		return creds.Credentials{}, false, err
	}
	defer c.release(l)

	// Under the lock nobody is writing this key's entry: a temporary file of it is a
	// leftover of a writer that was killed, and goes.
	c.removeLeftovers(id)

	// Double-checked: whoever held the lock before us may have stored the entry.
	cr, st, reason = c.lookup(k, path)
	switch st {
	case found:
		c.log.Debug("cache hit after waiting for the lock", "entry", path, "credentials", cr)
		return cr, true, nil
	case invalid:
		// Under the lock no writer can be between rename and our remove.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Debug("cache: remove discarded entry", "entry", path, "error", err.Error())
		} else {
			c.log.Debug("cache entry removed", "entry", path, "reason", reason.Error())
		}
	}

	cr, err = fetch(ctx)
	if err != nil {
		return creds.Credentials{}, false, err
	}
	if err := c.store(k, id, cr); err != nil {
		c.log.Warn("cache: fetched credentials not stored; they are still used", "entry", path, "error", err.Error())
	}
	return cr, false, nil
}

// Put stores cr for k, replacing any entry, under k's lock (waiting as ctx and
// Options.LockTimeout allow).
func (c *Cache) Put(ctx context.Context, k Key, cr creds.Credentials) error {
	if err := k.validate(); err != nil {
		return err
	}
	id := k.id()
	l, err := c.lock(ctx, c.lockPath(id))
	if err != nil {
		return err
	}
	defer c.release(l)
	return c.store(k, id, cr)
}

// store writes an entry atomically: a temporary file in the same directory (so rename
// cannot cross file systems), created 0600, synced, then renamed over the entry, and the
// directory synced so the rename survives a crash. Readers see the old entry or the new
// one, never a partial file.
func (c *Cache) store(k Key, id string, cr creds.Credentials) error {
	data, err := encodeEntry(k, cr)
	if err != nil {
		return err
	}
	return c.writeAtomic(id, c.entryPath(id), data)
}

// writeAtomic writes data to path through a temporary file .tmp-<id>-* of mode 0600 (see
// store).
func (c *Cache) writeAtomic(id, path string, data []byte) (err error) {
	f, err := os.CreateTemp(c.dir, ".tmp-"+id+"-*")
	if err != nil {
		return fmt.Errorf("cache: create entry: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil { // CreateTemp's mode today; explicit because the file holds secrets
		return fmt.Errorf("cache: chmod entry: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("cache: write entry: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cache: sync entry: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cache: close entry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cache: rename entry: %w", err)
	}
	if d, err := os.Open(c.dir); err == nil {
		// Durability only; the entry is already in place and correct if this fails.
		d.Sync()
		d.Close()
	}
	return nil
}

// lock takes the exclusive flock on path.
func (c *Cache) lock(ctx context.Context, path string) (*os.File, error) {
	f, err := flock.Lock(ctx, path, flock.Options{Timeout: c.lockTimeout, Busy: c.lockBusy})
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, flock.ErrTimeout):
		return nil, fmt.Errorf("cache: wait for lock %s: another awskeep process has held it for more than %s (it may be waiting for a PIN or a device); retry, or use --no-cache: %w",
			path, c.lockTimeout, ErrLockTimeout)
	case errors.Is(err, flock.ErrNotRegular):
		return nil, fmt.Errorf("cache: lock %s is not a regular file; remove it", path)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("cache: wait for lock %s: %w", path, err)
	case errors.Is(err, flock.ErrUnsupported):
		return nil, fmt.Errorf("cache: lock %s: %w", path, ErrUnsupported)
	}
	return nil, fmt.Errorf("cache: lock %s: %w; remove it if it is not a file", path, err)
}

// removeLeftovers removes the temporary files of key id (.tmp-<id>-*). Call it only under
// id's lock.
func (c *Cache) removeLeftovers(id string) {
	leftovers, _ := filepath.Glob(filepath.Join(c.dir, ".tmp-"+id+"-*"))
	for _, f := range leftovers {
		if err := os.Remove(f); err == nil {
			c.log.Debug("cache: removed a leftover of an interrupted write", "file", f)
		}
	}
}

func (c *Cache) release(f *os.File) { flock.Unlock(f) }

// Clear removes every entry, lock and leftover temporary file from the cache directory,
// and nothing else (the directory may be shared with other files if Options.Dir says so).
// A process fetching at the same time may store its entry after Clear returns.
func (c *Cache) Clear() error {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("cache: clear %s: %w", c.dir, err)
	}
	var errs []error
	for _, e := range ents {
		if !isCacheFile(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(c.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cache: clear %s: %w", c.dir, err)
	}
	return nil
}

// isCacheFile recognizes the names this package and the front create: <id>.json,
// <id>.lock, <name>.answer, <name>.lock (the front's turn, package fastpath),
// .tmp-<id>-<random> and .tmp-<name>-<random>.
func isCacheFile(name string) bool {
	if rest, ok := strings.CutPrefix(name, ".tmp-"); ok {
		id, _, ok := strings.Cut(rest, "-")
		return ok && (isID(id) || isAnswerName(id))
	}
	if id, ok := strings.CutSuffix(name, ".json"); ok {
		return isID(id)
	}
	if id, ok := strings.CutSuffix(name, ".lock"); ok {
		return isID(id) || isAnswerName(id)
	}
	if id, ok := strings.CutSuffix(name, answerSuffix); ok {
		return isAnswerName(id)
	}
	return false
}

func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
