package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := Lock(context.Background(), path, Options{Timeout: 10 * time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := max.Load()
				if n <= m || max.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			Unlock(f)
		}()
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Fatalf("%d holders at once", max.Load())
	}
}

func TestTimeoutContextAndBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	held, err := Lock(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer Unlock(held)
	var busy atomic.Int32
	if _, err := Lock(context.Background(), path, Options{Timeout: 50 * time.Millisecond, Busy: func() { busy.Add(1) }}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if busy.Load() == 0 {
		t.Fatal("Busy never called")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, path, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
}

func TestRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d.lock"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(context.Background(), filepath.Join(dir, "d.lock"), Options{}); err == nil {
		t.Fatal("a directory was locked")
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "l.lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(context.Background(), filepath.Join(dir, "l.lock"), Options{}); err == nil {
		t.Fatal("a symbolic link was followed")
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); !os.IsNotExist(err) {
		t.Fatal("the link's target was created")
	}
}

func TestTryLockAndWaitUnlocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	f, held, err := TryLock(path)
	if err != nil || !held {
		t.Fatalf("TryLock on a free lock: held %v, %v", held, err)
	}
	if g, held, err := TryLock(path); err != nil || held || g != nil {
		t.Fatalf("TryLock on a held lock: held %v, %v", held, err)
	}
	if err := WaitUnlocked(path, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("WaitUnlocked while held: %v, want ErrTimeout", err)
	}
	waiters := make(chan error, 3)
	for range 3 {
		go func() { waiters <- WaitUnlocked(path, 10*time.Second) }()
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-waiters:
		t.Fatalf("a waiter returned while the lock was held: %v", err)
	default:
	}
	Unlock(f)
	for range 3 {
		select {
		case err := <-waiters:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter did not wake when the lock was released")
		}
	}
	// Nobody holds it now: the waiters let go.
	if f, held, err := TryLock(path); err != nil || !held {
		t.Fatalf("TryLock after the waiters: held %v, %v", held, err)
	} else {
		Unlock(f)
	}
}
