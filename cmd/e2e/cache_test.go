package e2e

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// stsCalls counts the POSTs moto has logged: every STS call awskeep makes is one, and
// nothing else in these tests POSTs while they run.
func stsCalls(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(world.server.Log)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte(`"POST / HTTP/1.1"`))
}

// dirSnapshot describes every file in dir: name, size, modification time and content, so
// that any write shows as a difference.
func dirSnapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %d %s %x\n", e.Name(), info.Size(), info.ModTime().Format(time.RFC3339Nano), sha256.Sum256(data))
	}
	return b.String()
}

func (u *user) cacheDir() string { return filepath.Join(u.home, ".cache", "awskeep") }

func (u *user) cachedArgs() []string {
	return []string{"credential-process", "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--role-session-name", "cached"}
}

// oneSTSCallFor starts n invocations of run at once, as parallel AWS CLI commands do, and
// checks that they all print the same credentials, got with exactly one STS call.
func oneSTSCallFor(t *testing.T, n int, run func() result) []result {
	t.Helper()
	before := stsCalls(t)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run()
		}()
	}
	wg.Wait()
	for i, r := range results {
		mustSucceed(t, r, "credential-process")
		if r.stdout != results[0].stdout {
			t.Fatalf("invocation %d printed other credentials than invocation 0", i)
		}
	}
	if calls := stsCalls(t) - before; calls != 1 {
		t.Fatalf("%d concurrent invocations made %d STS calls, want 1", n, calls)
	}
	return results
}

// TestConcurrentInvocationsMakeOneSTSCall starts 32 credential-process runs at once, as
// parallel AWS CLI commands do: one calls STS, the others wait for its cache entry.
func TestConcurrentInvocationsMakeOneSTSCall(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	results := oneSTSCallFor(t, 32, func() result { return u.run("", nil, u.cachedArgs()...) })
	out := u.credentialProcessOutput(results[0].stdout)
	if !strings.Contains(callerARN(t, out), "assumed-role/deployer/cached") {
		t.Fatal("the cached credentials do not work")
	}

	t.Run("the cache is private", func(t *testing.T) {
		fi, err := os.Stat(u.cacheDir())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Fatalf("cache directory mode %04o, want 0700", fi.Mode().Perm())
		}
		entries, _ := filepath.Glob(filepath.Join(u.cacheDir(), "*"))
		if len(entries) == 0 {
			t.Fatal("nothing cached")
		}
		for _, e := range entries {
			fi, err := os.Stat(e)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s has mode %04o, want 0600", e, fi.Mode().Perm())
			}
		}
	})

	t.Run("a hit starts no plugin", func(t *testing.T) {
		// With no plugin to be found, only the cache can answer.
		r := u.run("", []string{"AWSKEEP_PLUGIN_DIR=" + t.TempDir()}, u.cachedArgs()...)
		mustSucceed(t, r, "credential-process from the cache")
		if r.stdout != results[0].stdout {
			t.Fatal("the hit printed other credentials")
		}
	})

	t.Run("a truncated entry is ignored and replaced", func(t *testing.T) {
		entries, _ := filepath.Glob(filepath.Join(u.cacheDir(), "*.json"))
		if len(entries) != 1 {
			t.Fatalf("cache entries: %v", entries)
		}
		data, err := os.ReadFile(entries[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(entries[0], data[:len(data)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		before := stsCalls(t)
		r := u.run("", nil, u.cachedArgs()...)
		mustSucceed(t, r, "credential-process with a truncated entry")
		if calls := stsCalls(t) - before; calls != 1 {
			t.Fatalf("%d STS calls, want 1 (the truncated entry must be replaced)", calls)
		}
		replaced, err := os.ReadFile(entries[0])
		if err != nil || len(replaced) <= len(data)/2 || !bytes.HasSuffix(bytes.TrimSpace(replaced), []byte("}")) {
			t.Fatalf("the entry was not replaced: %d bytes, %v", len(replaced), err)
		}
	})

	t.Run("--no-cache neither reads nor writes", func(t *testing.T) {
		// A valid entry is there: a run that read it would print its key and make no call.
		cached := u.credentialProcessOutput(u.run("", nil, u.cachedArgs()...).stdout)
		snapshot := dirSnapshot(t, u.cacheDir())
		before := stsCalls(t)
		r := u.run("", nil, append(u.cachedArgs(), "--no-cache")...)
		mustSucceed(t, r, "credential-process --no-cache")
		fresh := u.credentialProcessOutput(r.stdout)
		if calls := stsCalls(t) - before; calls != 1 {
			t.Fatalf("--no-cache made %d STS calls, want 1", calls)
		}
		if fresh.AccessKeyID == cached.AccessKeyID {
			t.Fatal("--no-cache printed the cached credentials: it read the cache")
		}
		if after := dirSnapshot(t, u.cacheDir()); after != snapshot {
			t.Fatalf("--no-cache changed the cache directory:\nbefore:\n%s\nafter:\n%s", snapshot, after)
		}
		// A user without a cache: --no-cache does not even create the directory.
		other := newUser(t)
		other.importKey("prod", world.alice.SecretAccessKey)
		mustSucceed(t, other.run("", nil, append(other.cachedArgs(), "--no-cache")...), "credential-process --no-cache")
		if _, err := os.Stat(other.cacheDir()); !os.IsNotExist(err) {
			t.Fatalf("--no-cache created the cache directory: %v", err)
		}
	})

	t.Run("cache clear", func(t *testing.T) {
		mustSucceed(t, u.run("", nil, "cache", "clear"), "cache clear")
		if entries, _ := filepath.Glob(filepath.Join(u.cacheDir(), "*.json")); len(entries) != 0 {
			t.Fatalf("entries left after cache clear: %v", entries)
		}
	})
}

func (u *user) credentialProcessOutput(stdout string) credprocOutput {
	u.t.Helper()
	out, err := parseCredentials(stdout)
	if err != nil {
		u.t.Fatal(err)
	}
	u.tokens = append(u.tokens, out.SecretAccessKey, out.SessionToken)
	return out
}
