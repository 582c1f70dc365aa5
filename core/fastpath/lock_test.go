package fastpath

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testFP = "0123456789abcdef"

// TestTurn: the first front leads; a second one waits until the leader's lock is
// released and is then told to look in the cache, not to lead.
func TestTurn(t *testing.T) {
	dir := t.TempDir()
	lock, leader, err := Turn(dir, testFP)
	if err != nil || !leader {
		t.Fatalf("first Turn: leader %v, %v", leader, err)
	}
	done := make(chan bool, 1)
	go func() {
		_, leader, err := Turn(dir, testFP)
		if err != nil {
			t.Error(err)
		}
		done <- leader
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("the second Turn returned while the first held the lock")
	default:
	}
	lock.Close()
	select {
	case leader := <-done:
		if leader {
			t.Fatal("the second Turn, after waiting, was told to lead")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second Turn did not return after the lock was released")
	}
	// Free again: the next one leads.
	lock, leader, err = Turn(dir, testFP)
	if err != nil || !leader {
		t.Fatalf("third Turn: leader %v, %v", leader, err)
	}
	lock.Close()
}

func TestHandoffAndInherited(t *testing.T) {
	dir := t.TempDir()
	lock, _, err := Turn(dir, testFP)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	kv, err := Handoff(lock, testFP)
	if err != nil {
		t.Fatal(err)
	}
	value, ok := strings.CutPrefix(kv, EnvRouteLock+"=")
	if !ok || value != strconv.Itoa(int(lock.Fd()))+":"+testFP {
		t.Fatalf("Handoff = %q", kv)
	}
	if f := Inherited(value, dir); f == nil || f.Name() != filepath.Join(dir, testFP+".lock") {
		t.Fatalf("Inherited(%q) = %v, want the lock", value, f)
	}

	other, err := os.CreateTemp(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, bad := range []string{
		"",
		"x:" + testFP,
		"1:" + testFP, // stdout is never the lock
		strconv.Itoa(int(lock.Fd())) + ":" + strings.Repeat("f", 16),            // another name
		strconv.Itoa(int(lock.Fd())) + ":" + strings.ToUpper(testFP),            // not a name
		strconv.Itoa(int(other.Fd())) + ":" + testFP,                            // another file
		strconv.Itoa(int(lock.Fd())) + ":" + testFP + "/../" + testFP + ".lock", // a path
	} {
		if f := Inherited(bad, dir); f != nil {
			t.Errorf("Inherited(%q) took %s", bad, f.Name())
		}
	}
	if f := Inherited(value, t.TempDir()); f != nil {
		t.Error("Inherited took a lock of another cache directory")
	}
}
