package cache

import "errors"

// Sentinel errors of the cache. Errors returned by this package wrap one of them (or the
// error of the fetch function, or of the context) so callers can tell them apart with
// errors.Is; the text around them says what to do.
var (
	// ErrInsecureDir means the cache directory is not a directory private to the user:
	// it is accessible by group or others, or owned by another user. The cache refuses to
	// read or write secrets there.
	ErrInsecureDir = errors.New("cache directory is not private")

	// ErrLockTimeout means another process held the lock of the same key for longer than
	// Options.LockTimeout.
	ErrLockTimeout = errors.New("timed out waiting for the cache lock")

	// ErrInvalidKey means a Key cannot be used as a cache key, e.g. its key URI still
	// carries a pin-value secret.
	ErrInvalidKey = errors.New("invalid cache key")

	// ErrInvalidCredentials means credentials cannot be stored because they lack a field
	// the cache needs (access key id, secret access key, expiration).
	ErrInvalidCredentials = errors.New("incomplete credentials")

	// ErrUnsupported means the operating system lacks what the cache needs (flock,
	// O_NOFOLLOW, file owners).
	ErrUnsupported = errors.New("cache not supported on this operating system")
)
