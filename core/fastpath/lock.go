package fastpath

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/awskeep/awskeep/core/internal/flock"
)

// When many invocations with the same inputs start at once (32 AWS CLI commands of one
// script) and the cache cannot answer them, one full program must fetch while the others
// wait in their fronts, cheaply, and then answer from the cache it filled. The fronts take
// turns on a lock named by the inputs' Name, <cache dir>/<name>.lock: the first one
// takes it and hands it over to the full program it runs (the descriptor survives execve),
// which releases it once the credentials are printed and the route is written; the others
// wait for it and look in the cache again.

// EnvRouteLock passes the held lock's descriptor from the front to the full program:
// "FD:NAME".
const EnvRouteLock = "AWSKEEP_ROUTE_LOCK"

// WaitLimit bounds a front's wait for the full program of another front.
const WaitLimit = time.Minute

// Turn takes the lock of name (see Name) in dir if it is free: leader reports that the caller
// holds it and passes it on with Handoff. Otherwise another front's full program holds it;
// Turn waits, at most WaitLimit, until it is released (every waiter wakes at once, see
// flock.WaitUnlocked) and the caller looks in the cache.
func Turn(dir, name string) (lock *os.File, leader bool, err error) {
	path := lockPath(dir, name)
	lock, leader, err = flock.TryLock(path)
	if err != nil || leader {
		return lock, leader, err
	}
	return nil, false, flock.WaitUnlocked(path, WaitLimit)
}

func lockPath(dir, name string) string { return filepath.Join(dir, name+".lock") }

// Handoff makes lock survive execve and returns the EnvRouteLock variable that names it.
func Handoff(lock *os.File, name string) (string, error) {
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, lock.Fd(), syscall.F_SETFD, 0); errno != 0 {
		return "", fmt.Errorf("fastpath: keep the route lock open across exec: %w", errno)
	}
	return EnvRouteLock + "=" + strconv.Itoa(int(lock.Fd())) + ":" + name, nil
}

// Inherited returns the route lock a front handed over in value ($EnvRouteLock), for the
// full program to release (Close) once it has answered; nil when there is none or value
// does not name the lock of a Name in dir, the cache directory (a descriptor that
// is not that lock is left alone).
func Inherited(value, dir string) *os.File {
	fdText, name, ok := strings.Cut(value, ":")
	fd, err := strconv.Atoi(fdText)
	if !ok || err != nil || fd < 3 || !IsName(name) {
		return nil
	}
	target, err := os.Readlink("/proc/self/fd/" + fdText)
	if err != nil || target != lockPath(dir, name) {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || int(st.Uid) != os.Getuid() {
		return nil
	}
	// Closed on any later execve; released by Close or the process's end.
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), target)
}
