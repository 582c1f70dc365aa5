package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/plugins"
)

func TestNextRefresh(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for left, want := range map[time.Duration]time.Duration{
		12 * time.Hour:   11*time.Hour + 45*time.Minute,
		time.Hour:        45 * time.Minute,
		30 * time.Minute: 15 * time.Minute,
		29 * time.Minute: 14*time.Minute + 30*time.Second,
		15 * time.Minute: 7*time.Minute + 30*time.Second,
		6 * time.Second:  3 * time.Second,
		time.Second:      time.Second,
		0:                time.Second,
		-time.Minute:     time.Second,
	} {
		if got := nextRefresh(creds.Credentials{Expiration: now.Add(left)}, now); got != want {
			t.Errorf("credentials with %v left: refresh in %v, want %v", left, got, want)
		}
	}
}

// loopTest runs updater.daemon against a scripted source on a fake clock: each wait
// advances the clock by its length at once.
type loopTest struct {
	t       *testing.T
	now     time.Time
	results []func(now time.Time) (creds.Credentials, error) // one per retrieve; the last repeats
	calls   int
	waits   []time.Duration
	written []creds.Credentials
	log     bytes.Buffer
	// stopAfter cancels the context when this many waits have been asked for.
	stopAfter int
	cancel    context.CancelFunc
}

func (l *loopTest) run() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.cancel = cancel
	u := &updater{
		path: "/home/u/.aws/credentials", section: "dev",
		now: func() time.Time { return l.now },
		retrieve: func(ctx context.Context) (creds.Credentials, error) {
			i := min(l.calls, len(l.results)-1)
			l.calls++
			if l.calls > 1000 {
				l.t.Fatal("the loop does not end")
			}
			return l.results[i](l.now)
		},
		write: func(c creds.Credentials) error { l.written = append(l.written, c); return nil },
		after: func(d time.Duration) <-chan time.Time {
			l.waits = append(l.waits, d)
			if l.stopAfter > 0 && len(l.waits) >= l.stopAfter {
				l.cancel()
				return nil // never fires; the cancelled context ends the wait
			}
			l.now = l.now.Add(d)
			ch := make(chan time.Time, 1)
			ch <- l.now
			return ch
		},
		log: slog.New(slog.NewTextHandler(&l.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	return u.daemon(ctx)
}

// fresh returns credentials that live for lifetime from the moment they are fetched.
func fresh(lifetime time.Duration) func(time.Time) (creds.Credentials, error) {
	n := 0
	return func(now time.Time) (creds.Credentials, error) {
		n++
		return creds.Credentials{AccessKeyID: fmt.Sprintf("ASIA%d", n), SecretAccessKey: "s3cr3t-daemon", SessionToken: "t0ken-daemon",
			Expiration: now.Add(lifetime)}, nil
	}
}

func failing(err error) func(time.Time) (creds.Credentials, error) {
	return func(time.Time) (creds.Credentials, error) { return creds.Credentials{}, err }
}

var errSTSDown = creds.Wrap(creds.ClassSTS, "STS AssumeRole", errors.New("connection refused"))

func (l *loopTest) countLog(level, msg string) int {
	return strings.Count(l.log.String(), "level="+level+" msg=\""+msg)
}

func (l *loopTest) checkNoSecrets() {
	if strings.Contains(l.log.String(), "s3cr3t") || strings.Contains(l.log.String(), "t0ken") {
		l.t.Fatalf("the log holds a secret:\n%s", l.log.String())
	}
}

func TestDaemonRefreshesOnSchedule(t *testing.T) {
	for _, tc := range []struct {
		lifetime time.Duration
		wait     time.Duration
	}{
		{time.Hour, 45 * time.Minute},
		{12 * time.Hour, 11*time.Hour + 45*time.Minute},
		{15 * time.Minute, 7*time.Minute + 30*time.Second},
		{4 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.lifetime.String(), func(t *testing.T) {
			l := &loopTest{t: t, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), stopAfter: 3,
				results: []func(time.Time) (creds.Credentials, error){fresh(tc.lifetime)}}
			if err := l.run(); err != nil {
				t.Fatalf("daemon = %v after a signal, want nil (exit 0)", err)
			}
			if want := []time.Duration{tc.wait, tc.wait, tc.wait}; fmt.Sprint(l.waits) != fmt.Sprint(want) {
				t.Fatalf("waits %v, want %v", l.waits, want)
			}
			if len(l.written) != 3 || l.countLog("INFO", "credentials refreshed") != 3 {
				t.Fatalf("%d writes, log:\n%s", len(l.written), l.log.String())
			}
			if !strings.Contains(l.log.String(), "section=dev") || !strings.Contains(l.log.String(), "expires=2026-1") {
				t.Fatalf("the log line does not say which section and when it expires:\n%s", l.log.String())
			}
			l.checkNoSecrets()
		})
	}
}

// TestDaemonRetriesWhileValid: after a success, failures are retried with backoff 1s, 2s,
// 4s ... 1m while the written credentials are valid; when they expire the daemon fails.
func TestDaemonRetriesWhileValid(t *testing.T) {
	l := &loopTest{t: t, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		results: []func(time.Time) (creds.Credentials, error){fresh(20 * time.Minute), failing(errSTSDown)}}
	err := l.run()
	if !errors.Is(err, errSTSDown) || !strings.Contains(err.Error(), "expired at 2026-11-30T12:20:00Z before a refresh succeeded") {
		t.Fatalf("daemon = %v", err)
	}
	want := []time.Duration{10 * time.Minute, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	if fmt.Sprint(l.waits[:len(want)]) != fmt.Sprint(want) {
		t.Fatalf("waits start %v, want %v", l.waits[:len(want)], want)
	}
	var retried time.Duration
	for _, w := range l.waits[1:] {
		retried += w
		if w > time.Minute {
			t.Fatalf("a retry waited %v", w)
		}
	}
	if retried != 10*time.Minute {
		t.Fatalf("retried for %v, want exactly the 10 minutes the credentials had left", retried)
	}
	if n := l.countLog("WARN", "refreshing credentials failed; retrying"); n != len(l.waits)-1 {
		t.Fatalf("%d warnings for %d retries", n, len(l.waits)-1)
	}
	l.checkNoSecrets()
}

func TestDaemonRecovers(t *testing.T) {
	l := &loopTest{t: t, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), stopAfter: 6,
		results: []func(time.Time) (creds.Credentials, error){
			fresh(time.Hour), failing(errSTSDown), failing(errSTSDown), fresh(time.Hour), failing(errSTSDown), fresh(time.Hour),
		}}
	if err := l.run(); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{45 * time.Minute, time.Second, 2 * time.Second, 45 * time.Minute, time.Second, 45 * time.Minute}
	if fmt.Sprint(l.waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v (the backoff starts again after a success)", l.waits, want)
	}
}

// TestDaemonDoesNotRetry: what retrying cannot mend ends the daemon at once: any failure
// before the first write, a wrong or locked PIN (each try counts against the device), a
// bad setting, a prompt nobody can answer.
func TestDaemonDoesNotRetry(t *testing.T) {
	for name, err := range map[string]error{
		"wrong PIN":   creds.Wrap(creds.ClassDevice, "HMAC", fmt.Errorf("pkcs11: %w", plugins.ErrPINIncorrect)),
		"locked PIN":  creds.Wrap(creds.ClassDevice, "HMAC", plugins.ErrPINLocked),
		"setting":     creds.Wrap(creds.ClassConfig, "profile dev", errors.New("no awskeep_key")),
		"no terminal": creds.Wrap(creds.ClassPrompt, "MFA code", errors.New("no terminal")),
	} {
		t.Run(name, func(t *testing.T) {
			l := &loopTest{t: t, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
				results: []func(time.Time) (creds.Credentials, error){fresh(time.Hour), failing(err)}}
			if got := l.run(); !errors.Is(got, err) || l.calls != 2 {
				t.Fatalf("daemon = %v after %d calls, want %v after 2", got, l.calls, err)
			}
		})
	}
	t.Run("first failure", func(t *testing.T) {
		l := &loopTest{t: t, now: time.Now(), results: []func(time.Time) (creds.Credentials, error){failing(errSTSDown)}}
		if got := l.run(); !errors.Is(got, errSTSDown) || l.calls != 1 || len(l.waits) != 0 {
			t.Fatalf("daemon = %v after %d calls", got, l.calls)
		}
	})
}

// TestDaemonSignalDuringRetrieve: a signal that cancels a fetch in flight stops the
// daemon with exit 0, not with the fetch's error.
func TestDaemonSignalDuringRetrieve(t *testing.T) {
	l := &loopTest{t: t, now: time.Now()}
	l.results = []func(time.Time) (creds.Credentials, error){
		fresh(time.Hour),
		func(time.Time) (creds.Credentials, error) {
			l.cancel()
			return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS AssumeRole", context.Canceled)
		},
	}
	if err := l.run(); err != nil || l.calls != 2 {
		t.Fatalf("daemon = %v after %d calls", err, l.calls)
	}
}

func TestUpdateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"update", "--key", "pkcs11:object=a", "--access-key-id", "AKIAIOSFODNN7EXAMPLE"}, "needs a section name"},
		{[]string{"update", "--profile", "p", "--credentials-profile", "a b"}, "invalid credentials-file section name"},
		{[]string{"update", "--profile", "p]"}, "--credentials-profile NAME"},
		{[]string{"update", "--profile", "p", "--daemon", "--mfa-code", "123456"}, "--mfa-code is good for one refresh"},
		{[]string{"update", "--profile", "p", "stray"}, "unexpected argument"},
	} {
		r := runAwskeep(t, "", map[string]string{"HOME": t.TempDir()}, tc.args...)
		if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.says)
		}
	}
}
