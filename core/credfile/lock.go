package credfile

import (
	"fmt"
	"os"
	"time"
)

// Lock polling, as in core/cache: start fast (a writer holds the lock for milliseconds),
// back off to a modest ceiling. Waiting polls LOCK_NB rather than blocking in flock, which
// no timer could interrupt.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 25 * time.Millisecond
)

// lockBusy, if set, is called each time lock finds the lock held by someone else (tests use
// it to know that a writer is really waiting).
var lockBusy func()

// lock takes the exclusive flock on path, creating the file (0600) if needed, waiting at
// most timeout.
func lock(path string, timeout time.Duration) (*os.File, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	<-poll.C
	delay := lockPollMin
	for {
		f, err := openLockFile(path)
		if err != nil {
			return nil, fmt.Errorf("credentials file lock %s: %w; remove it if it is not a file", path, unwrapPath(err))
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("credentials file lock %s is not a regular file; remove it", path)
		}
		for {
			busy, err := tryLock(f)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("credentials file lock %s: %w", path, err)
			}
			if !busy {
				break
			}
			if lockBusy != nil {
				lockBusy()
			}
			poll.Reset(delay)
			select {
			case <-deadline.C:
				f.Close()
				return nil, &fileError{fmt.Sprintf("credentials file lock %s: another process has held it for more than %s; retry, or remove the lock file if no awskeep is running", path, timeout), ErrLockTimeout}
			case <-poll.C:
			}
			delay = min(2*delay, lockPollMax)
		}
		// Someone may have removed the lock file while we waited on it; a lock on an
		// unlinked file excludes nobody who opens the path now, so lock the new one.
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
	}
}

func release(f *os.File) {
	unlock(f)
	f.Close()
}
