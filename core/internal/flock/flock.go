// Package flock takes exclusive advisory locks on lock files (flock(2)), waiting as a
// context and a timeout allow. The credential cache and the credentials-file writer use it
// so that concurrent awskeep processes take turns.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Errors of Lock; the text around them is the caller's.
var (
	// ErrTimeout: another holder kept the lock for longer than the timeout.
	ErrTimeout = errors.New("lock held by another process for too long")
	// ErrNotRegular: something other than a regular file is at the lock's path.
	ErrNotRegular = errors.New("lock is not a regular file")
	// ErrUnsupported: this system lacks flock or O_NOFOLLOW.
	ErrUnsupported = errors.New("file locks not supported on this system")
)

// Polling: start fast (holders keep locks for milliseconds), back off to a modest ceiling.
// Waiting polls LOCK_NB rather than blocking in flock, which neither a context nor a timer
// could interrupt.
const (
	pollMin = time.Millisecond
	pollMax = 25 * time.Millisecond
)

// Options tune Lock.
type Options struct {
	// Timeout bounds the wait; zero or negative waits as long as ctx allows.
	Timeout time.Duration
	// Busy, if set, is called each time the lock is found held (tests use it to know that
	// a caller is really waiting).
	Busy func()
}

// Lock opens path (creating it 0600; never through a symbolic link, never blocking on a
// FIFO) and takes its exclusive lock. Release it with Unlock.
func Lock(ctx context.Context, path string, opts Options) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTimer(0)
	defer poll.Stop()
	<-poll.C
	delay := pollMin
	for {
		f, err := openLockFile(path)
		if err != nil {
			return nil, err
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, ErrNotRegular
		}
		for {
			busy, err := tryLock(f)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("flock: %w", err)
			}
			if !busy {
				break
			}
			if opts.Busy != nil {
				opts.Busy()
			}
			poll.Reset(delay)
			select {
			case <-ctx.Done():
				f.Close()
				return nil, ctx.Err()
			case <-deadline:
				f.Close()
				return nil, ErrTimeout
			case <-poll.C:
			}
			delay = min(2*delay, pollMax)
		}
		// The lock file may have been removed while we waited on it; a lock on an unlinked
		// file excludes nobody who opens the path now, so lock the new one.
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
	}
}

// Unlock releases the lock and closes the file.
func Unlock(f *os.File) {
	_ = unlock(f)
	_ = f.Close()
}

// TryLock takes path's exclusive lock if it is free, without waiting: held reports whether
// it did. Release it with Unlock.
func TryLock(path string) (f *os.File, held bool, err error) {
	if f, err = openLockFile(path); err != nil {
		return nil, false, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, false, ErrNotRegular
	}
	busy, err := tryLock(f)
	if err != nil || busy {
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("flock: %w", err)
		}
		return nil, false, nil
	}
	return f, true, nil
}

// WaitUnlocked waits, at most timeout, until no one holds the exclusive lock on path, and
// returns without holding anything. Unlike Lock it does not poll: it blocks in flock(2) for
// a shared lock, so that every waiter wakes the moment the holder releases (all of them
// at once: shared locks do not exclude each other), then lets go. On timeout the wait is
// abandoned to a goroutine that ends when the lock is released; a process that moves on
// (a front that executes the full program) does not mind.
func WaitUnlocked(path string, timeout time.Duration) error {
	f, err := openLockFile(path)
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return ErrNotRegular
	}
	done := make(chan error, 1)
	go func() {
		err := waitShared(f)
		f.Close()
		done <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("flock: %w", err)
		}
		return nil
	case <-t.C:
		return ErrTimeout
	}
}
