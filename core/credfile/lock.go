package credfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/awskeep/awskeep/core/internal/flock"
)

// lockBusy, if set, is called each time lock finds the lock held by someone else (tests use
// it to know that a writer is really waiting).
var lockBusy func()

// lock takes the exclusive flock on path, creating the file (0600) if needed, waiting at
// most timeout.
func lock(path string, timeout time.Duration) (*os.File, error) {
	f, err := flock.Lock(context.Background(), path, flock.Options{Timeout: timeout, Busy: lockBusy})
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, flock.ErrTimeout):
		return nil, &fileError{fmt.Sprintf("credentials file lock %s: another process has held it for more than %s; retry, or remove the lock file if no awskeep is running", path, timeout), ErrLockTimeout}
	case errors.Is(err, flock.ErrNotRegular):
		return nil, fmt.Errorf("credentials file lock %s is not a regular file; remove it", path)
	case errors.Is(err, flock.ErrUnsupported):
		return nil, fmt.Errorf("credentials file lock %s: %w", path, ErrUnsupported)
	}
	return nil, fmt.Errorf("credentials file lock %s: %w; remove it if it is not a file", path, unwrapPath(err))
}

func release(f *os.File) { flock.Unlock(f) }
