package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/awskeep/awskeep/core/creds"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testCache opens a cache in a fresh directory with a fixed clock and a debug logger whose
// output is returned.
func testCache(t *testing.T, optFns ...func(*Options)) (*Cache, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	fns := append([]func(*Options){func(o *Options) {
		o.Dir = filepath.Join(t.TempDir(), "awskeep")
		o.Now = func() time.Time { return testNow }
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, optFns...)
	c, err := Open(fns...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { assertNoSecrets(t, "log output", logs.String()) })
	return c, logs
}

// counter is a fetch function that counts its calls and returns fixed credentials.
type counter struct {
	n   atomic.Int32
	cr  creds.Credentials
	err error
}

func (f *counter) fetch(context.Context) (creds.Credentials, error) {
	f.n.Add(1)
	return f.cr, f.err
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, xdg, want string
	}{
		{"xdg set", "/var/cache/u", "/var/cache/u/awskeep"},
		{"xdg unset", "", filepath.Join(home, ".cache", "awskeep")},
		{"xdg relative is ignored", "rel/cache", filepath.Join(home, ".cache", "awskeep")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			got, err := DefaultDir()
			if err != nil || got != tc.want {
				t.Errorf("DefaultDir() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestOpenDefaultDirCreatesPrivateDirs(t *testing.T) {
	xdg := filepath.Join(t.TempDir(), "xdg")
	t.Setenv("XDG_CACHE_HOME", xdg)
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(xdg, "awskeep"); c.Dir() != want {
		t.Errorf("Dir() = %s, want %s", c.Dir(), want)
	}
	assertMode(t, xdg, fs.ModeDir|0o700)
	assertMode(t, c.Dir(), fs.ModeDir|0o700)
}

func TestOpenDirPermissions(t *testing.T) {
	tests := []struct {
		name    string
		mode    fs.FileMode // of an existing directory; 0 creates none
		wantErr bool
	}{
		{"created", 0, false},
		{"existing 0700", 0o700, false},
		{"existing 0755", 0o755, true},
		{"existing 0750", 0o750, true},
		{"existing 0701", 0o701, true},
		{"existing 0777", 0o777, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "awskeep")
			if tc.mode != 0 {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(func(o *Options) { o.Dir = dir })
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				assertMode(t, dir, fs.ModeDir|0o700)
				return
			}
			if !errors.Is(err, ErrInsecureDir) {
				t.Fatalf("Open error = %v, want ErrInsecureDir", err)
			}
			if want := "chmod 700 " + dir; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			assertMode(t, dir, fs.ModeDir|tc.mode) // refused, not silently fixed
		})
	}
}

func TestOpenDirNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "awskeep")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(func(o *Options) { o.Dir = file })
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Open error = %v, want 'not a directory'", err)
	}
}

// TestOwnerChecks checks the owner rule on real files through the functions Open and
// lookup use, with a uid that is not the file's; TestForeignOwnerEndToEnd does the same
// through chown where the test runs as root.
func TestOwnerChecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "awskeep")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	other := os.Getuid() + 1
	if err := checkDir(dir, fi, other); !errors.Is(err, ErrInsecureDir) || !strings.Contains(err.Error(), "owned by uid") {
		t.Errorf("checkDir with another uid = %v, want ErrInsecureDir naming the owner", err)
	}
	if err := checkDir(dir, fi, os.Getuid()); err != nil {
		t.Errorf("checkDir with own uid = %v", err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err = os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := metaOf(fi)
	if !ok {
		t.Fatal("metaOf failed")
	}
	if err := checkEntryFile(m, other); err == nil || !strings.Contains(err.Error(), "owned by uid") {
		t.Errorf("checkEntryFile with another uid = %v", err)
	}
	if err := checkEntryFile(m, os.Getuid()); err != nil {
		t.Errorf("checkEntryFile with own uid = %v", err)
	}
}

// nobody is the uid that root's tests give files they want foreign.
const nobody = 65534

func TestForeignOwnerEndToEnd(t *testing.T) {
	if os.Getuid() != 0 {
		t.Log("not root: cannot chown; the owner rule is covered by TestOwnerChecks")
		return
	}
	t.Run("directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "awskeep")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		_, err := Open(func(o *Options) { o.Dir = dir })
		if !errors.Is(err, ErrInsecureDir) || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Fatalf("Open error = %v, want ErrInsecureDir naming uid 65534", err)
		}
	})
	t.Run("entry", func(t *testing.T) {
		c, logs := testCache(t)
		k := testKey()
		if err := c.Put(context.Background(), k, testCreds(testNow.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(c.entryPath(k.id()), nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Get(k); ok {
			t.Fatal("Get used an entry owned by another user")
		}
		if !strings.Contains(logs.String(), "owned by uid 65534") {
			t.Errorf("log does not give the reason:\n%s", logs)
		}
	})
}

func TestPutGetPermissions(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	want := testCreds(testNow.Add(time.Hour))
	if err := c.Put(context.Background(), k, want); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || !sameCreds(got, want) {
		t.Fatalf("Get = %v, %v; want %v, true", got, ok, want)
	}
	assertMode(t, c.Dir(), fs.ModeDir|0o700)
	assertMode(t, c.entryPath(k.id()), 0o600)
	assertMode(t, c.lockPath(k.id()), 0o600)
	names := dirNames(t, c.Dir())
	if want := []string{k.id() + ".json", k.id() + ".lock"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("directory holds %v, want %v (no temporary files left)", names, want)
	}
	// Other keys miss.
	other := k
	other.Region = "us-east-1"
	if _, ok := c.Get(other); ok {
		t.Error("Get hit for a key that differs in region")
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestMinRemaining checks the boundary: an entry is used only while strictly more than
// MinRemaining is left.
func TestMinRemaining(t *testing.T) {
	tests := []struct {
		name      string
		min       time.Duration // 0: default
		remaining time.Duration
		wantHit   bool
	}{
		{"default, 1h left", 0, time.Hour, true},
		{"default, 15m1ns left", 0, 15*time.Minute + time.Nanosecond, true},
		{"default, exactly 15m left", 0, 15 * time.Minute, false},
		{"default, 14m59s left", 0, 15*time.Minute - time.Second, false},
		{"default, expired", 0, -time.Minute, false},
		{"5m, 5m1s left", 5 * time.Minute, 5*time.Minute + time.Second, true},
		{"5m, exactly 5m left", 5 * time.Minute, 5 * time.Minute, false},
		{"5m, 14m left", 5 * time.Minute, 14 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := testCache(t, func(o *Options) { o.MinRemaining = tc.min })
			k := testKey()
			stored := testCreds(testNow.Add(tc.remaining))
			if err := c.Put(context.Background(), k, stored); err != nil {
				t.Fatal(err)
			}
			_, ok := c.Get(k)
			if ok != tc.wantHit {
				t.Errorf("Get hit = %v, want %v", ok, tc.wantHit)
			}
			fresh := testCreds(testNow.Add(time.Hour))
			fresh.AccessKeyID = "ASIAFRESH"
			f := &counter{cr: fresh}
			got, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
			if err != nil {
				t.Fatal(err)
			}
			if hit != tc.wantHit || (f.n.Load() == 1) == tc.wantHit {
				t.Errorf("GetOrFetch hit = %v with %d fetches, want hit %v", hit, f.n.Load(), tc.wantHit)
			}
			want := fresh
			if tc.wantHit {
				want = stored
			}
			if !sameCreds(got, want) {
				t.Errorf("GetOrFetch = %v, want %v", got, want)
			}
			if !tc.wantHit && !strings.Contains(logs.String(), "expires too soon") {
				t.Errorf("log does not say why:\n%s", logs)
			}
		})
	}
}

// TestUntrustedEntries plants bad entry files; each must be ignored by Get (and reported),
// then removed and replaced by GetOrFetch with a valid 0600 entry.
func TestUntrustedEntries(t *testing.T) {
	k := testKey()
	valid := mustEncode(t, k, testCreds(testNow.Add(time.Hour)))
	write := func(data []byte, mode fs.FileMode) func(*testing.T, string) {
		return func(t *testing.T, path string) {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	otherKey := k
	otherKey.RoleARN = "arn:aws:iam::123456789012:role/other"
	tests := []struct {
		name   string
		plant  func(*testing.T, string)
		reason string
	}{
		{"truncated", write(valid[:len(valid)-40], 0o600), "truncated"},
		{"empty", write(nil, 0o600), "truncated"},
		{"garbage", write([]byte("\x00\xffnot json"), 0o600), "not valid JSON"},
		{"other version", write(bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":7`), 1), 0o600), "format version 7"},
		{"foreign key", write(mustEncode(t, otherKey, testCreds(testNow.Add(time.Hour))), 0o600), "different key"},
		{"readable by group", write(valid, 0o640), "mode 0640"},
		{"readable by others", write(valid, 0o604), "mode 0604"},
		{"too large", write(append(valid, bytes.Repeat([]byte(" "), maxEntrySize)...), 0o600), "larger than"},
		{"symbolic link", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "elsewhere.json")
			write(valid, 0o600)(t, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"fifo", func(t *testing.T, path string) {
			if err := mkfifo(path); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := testCache(t)
			path := c.entryPath(k.id())
			tc.plant(t, path)
			if _, ok := c.Get(k); ok {
				t.Fatal("Get used the entry")
			}
			if !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("log does not say %q:\n%s", tc.reason, logs)
			}
			fresh := testCreds(testNow.Add(2 * time.Hour))
			f := &counter{cr: fresh}
			got, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
			if err != nil || hit || f.n.Load() != 1 || !sameCreds(got, fresh) {
				t.Fatalf("GetOrFetch = %v, hit %v, err %v after %d fetches; want the fetched credentials", got, hit, err, f.n.Load())
			}
			assertMode(t, path, 0o600)
			if got, ok := c.Get(k); !ok || !sameCreds(got, fresh) {
				t.Errorf("after replacement Get = %v, %v", got, ok)
			}
		})
	}
}

func TestFetchError(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	sentinel := errors.New("STS AssumeRole: AccessDenied")
	f := &counter{err: fmt.Errorf("wrapped: %w", sentinel)}
	_, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
	if !errors.Is(err, sentinel) || err != f.err || hit {
		t.Fatalf("GetOrFetch error = %v (hit %v), want the fetch error itself", err, hit)
	}
	if _, err := os.Stat(c.entryPath(k.id())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an entry was stored after a failed fetch: %v", err)
	}
	// Nothing was cached: the next call fetches again.
	f.err = nil
	f.cr = testCreds(testNow.Add(time.Hour))
	if _, hit, err := c.GetOrFetch(context.Background(), k, f.fetch); err != nil || hit || f.n.Load() != 2 {
		t.Errorf("second GetOrFetch: hit %v, err %v, %d fetches; want a second fetch", hit, err, f.n.Load())
	}
}

// TestShortLivedFetchIsStored documents the choice: credentials fetched with MinRemaining
// or less left are returned and stored, and never hit.
func TestShortLivedFetchIsStored(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	f := &counter{cr: testCreds(testNow.Add(10 * time.Minute))}
	for i := 1; i <= 2; i++ {
		got, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
		if err != nil || hit || !sameCreds(got, f.cr) || f.n.Load() != int32(i) {
			t.Fatalf("call %d: %v, hit %v, err %v, %d fetches", i, got, hit, err, f.n.Load())
		}
		assertMode(t, c.entryPath(k.id()), 0o600)
	}
}

// TestStoreFailureStillReturns: fetched credentials the cache cannot store (here without an
// expiration) are returned, a warning is logged, and nothing is written.
func TestStoreFailureStillReturns(t *testing.T) {
	c, logs := testCache(t)
	k := testKey()
	f := &counter{cr: creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: testSecret, SessionToken: testToken}}
	got, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
	if err != nil || hit || got != f.cr {
		t.Fatalf("GetOrFetch = %v, %v, %v", got, hit, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "no expiration") {
		t.Errorf("no warning logged:\n%s", logs)
	}
	if _, err := os.Stat(c.entryPath(k.id())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("entry written: %v", err)
	}
	err = c.Put(context.Background(), k, f.cr)
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Put error = %v, want ErrInvalidCredentials", err)
	}
	assertNoSecrets(t, "Put error", err.Error())
}

func TestKeyWithPINRefused(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	k.KeyURI = "pkcs11:token=aws?pin-value=SECRETzPIN"
	f := &counter{cr: testCreds(testNow.Add(time.Hour))}
	_, _, err := c.GetOrFetch(context.Background(), k, f.fetch)
	if !errors.Is(err, ErrInvalidKey) || f.n.Load() != 0 {
		t.Fatalf("GetOrFetch = %v after %d fetches, want ErrInvalidKey and no fetch", err, f.n.Load())
	}
	if err := c.Put(context.Background(), k, f.cr); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Put = %v, want ErrInvalidKey", err)
	}
	if _, ok := c.Get(k); ok {
		t.Error("Get hit")
	}
	if strings.Contains(err.Error(), "SECRETzPIN") {
		t.Errorf("error %q contains the PIN", err)
	}
	if names := dirNames(t, c.Dir()); len(names) != 0 {
		t.Errorf("files written: %v", names)
	}
}

func TestClear(t *testing.T) {
	c, _ := testCache(t)
	ctx := context.Background()
	var keys []Key
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		k := testKey()
		k.Region = region
		keys = append(keys, k)
		if err := c.Put(ctx, k, testCreds(testNow.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	// Files the cache did not create stay, even if they look similar.
	keep := []string{"notes.txt", keys[0].id() + ".txt", strings.ToUpper(keys[0].id()) + ".json", ".tmp-x-1"}
	for _, name := range keep {
		if err := os.WriteFile(filepath.Join(c.Dir(), name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A temporary file a crashed writer left behind goes.
	if err := os.WriteFile(filepath.Join(c.Dir(), ".tmp-"+keys[1].id()+"-12345"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keep)
	if got := dirNames(t, c.Dir()); strings.Join(got, " ") != strings.Join(keep, " ") {
		t.Errorf("after Clear the directory holds %v, want %v", got, keep)
	}
	for _, k := range keys {
		if _, ok := c.Get(k); ok {
			t.Errorf("Get(%s) hit after Clear", k.Region)
		}
	}
	f := &counter{cr: testCreds(testNow.Add(time.Hour))}
	if _, hit, err := c.GetOrFetch(ctx, keys[0], f.fetch); err != nil || hit || f.n.Load() != 1 {
		t.Errorf("GetOrFetch after Clear: hit %v, err %v, %d fetches", hit, err, f.n.Load())
	}
	assertMode(t, c.Dir(), fs.ModeDir|0o700)
}

// holdLock starts a GetOrFetch whose fetch blocks until the returned release is called,
// and returns once that fetch is running, i.e. the key's lock is held.
func holdLock(t *testing.T, c *Cache, k Key, cr creds.Credentials) (release func()) {
	t.Helper()
	started, done := make(chan struct{}), make(chan struct{})
	unblock := make(chan struct{})
	go func() {
		defer close(done)
		_, _, err := c.GetOrFetch(context.Background(), k, func(context.Context) (creds.Credentials, error) {
			close(started)
			<-unblock
			return cr, nil
		})
		if err != nil {
			t.Errorf("holder: %v", err)
		}
	}()
	<-started
	var once sync.Once
	release = func() { once.Do(func() { close(unblock); <-done }) }
	t.Cleanup(release)
	return release
}

func TestLockWaitHonoursContext(t *testing.T) {
	k := testKey()
	held := testCreds(testNow.Add(time.Hour))
	tests := []struct {
		name string
		opts func(*Options)
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", nil, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"deadline while waiting", nil, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"lock timeout", func(o *Options) { o.LockTimeout = 20 * time.Millisecond }, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, ErrLockTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []func(*Options){}
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			c, _ := testCache(t, opts...)
			release := holdLock(t, c, k, held)
			ctx, cancel := tc.ctx()
			defer cancel()
			f := &counter{cr: testCreds(testNow.Add(time.Hour))}
			_, _, err := c.GetOrFetch(ctx, k, f.fetch)
			if !errors.Is(err, tc.want) || f.n.Load() != 0 {
				t.Fatalf("GetOrFetch error = %v after %d fetches, want %v and no fetch", err, f.n.Load(), tc.want)
			}
			if err := c.Put(ctx, k, f.cr); !errors.Is(err, tc.want) {
				t.Errorf("Put error = %v, want %v", err, tc.want)
			}
			// Once the holder has stored its credentials, a waiter gets them without fetching.
			release()
			got, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
			if err != nil || !hit || f.n.Load() != 0 || !sameCreds(got, held) {
				t.Errorf("after release: %v, hit %v, err %v, %d fetches", got, hit, err, f.n.Load())
			}
		})
	}
}

// TestWaiterGetsHoldersCredentials is the double check: a caller that missed, then waited
// for the lock, returns what the holder stored instead of fetching again.
func TestWaiterGetsHoldersCredentials(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	held := testCreds(testNow.Add(time.Hour))
	release := holdLock(t, c, k, held)
	type result struct {
		cr  creds.Credentials
		hit bool
		err error
	}
	res := make(chan result)
	f := &counter{cr: testCreds(testNow.Add(2 * time.Hour))}
	// The waiter must really wait: release the holder only after the waiter has found the
	// lock taken, so the double check (not an early lookup) is what gives it the entry.
	waiting := make(chan struct{})
	var once sync.Once
	c.lockBusy = func() { once.Do(func() { close(waiting) }) }
	go func() {
		cr, hit, err := c.GetOrFetch(context.Background(), k, f.fetch)
		res <- result{cr, hit, err}
	}()
	select {
	case <-waiting:
	case r := <-res:
		t.Fatalf("the waiter returned without waiting for the lock: %v, hit %v, err %v", r.cr, r.hit, r.err)
	}
	release()
	r := <-res
	if r.err != nil || !r.hit || f.n.Load() != 0 || !sameCreds(r.cr, held) {
		t.Fatalf("waiter: %v, hit %v, err %v, %d fetches; want the holder's credentials", r.cr, r.hit, r.err, f.n.Load())
	}
}

// TestConcurrentGoroutines: goroutines sharing one Cache and goroutines with their own
// Cache on the same directory fetch exactly once and all see the same credentials.
func TestConcurrentGoroutines(t *testing.T) {
	c, _ := testCache(t)
	const n = 32
	var fetches atomic.Int32
	fetch := func(context.Context) (creds.Credentials, error) {
		i := fetches.Add(1)
		time.Sleep(50 * time.Millisecond) // widen the window in which others miss
		cr := testCreds(testNow.Add(time.Hour))
		cr.AccessKeyID = fmt.Sprintf("ASIAFETCH%d", i)
		return cr, nil
	}
	var wg sync.WaitGroup
	results := make([]creds.Credentials, n)
	misses := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		cache := c
		if i%2 == 1 {
			var err error
			if cache, err = Open(func(o *Options) { o.Dir = c.Dir(); o.Now = c.now }); err != nil {
				t.Fatal(err)
			}
		}
		wg.Go(func() {
			var hit bool
			results[i], hit, errs[i] = cache.GetOrFetch(context.Background(), testKey(), fetch)
			misses[i] = !hit
		})
	}
	wg.Wait()
	if got := fetches.Load(); got != 1 {
		t.Fatalf("%d fetches, want 1", got)
	}
	nMiss := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !sameCreds(results[i], results[0]) {
			t.Errorf("goroutine %d got %v, goroutine 0 %v", i, results[i], results[0])
		}
		if misses[i] {
			nMiss++
		}
	}
	if nMiss != 1 {
		t.Errorf("%d callers report a miss, want 1", nMiss)
	}
}

// TestAtomicReplace has readers race a writer that keeps replacing the entry: a reader
// must always see a complete entry (a hit whose fields belong together), never a partial
// file, which a truncate-and-write implementation would show.
func TestAtomicReplace(t *testing.T) {
	c, logs := testCache(t)
	k := testKey()
	ctx := context.Background()
	credsFor := func(i int) creds.Credentials {
		cr := testCreds(testNow.Add(time.Hour + time.Duration(i)*time.Second))
		cr.AccessKeyID = fmt.Sprintf("ASIA%06d", i)
		cr.SessionToken = strings.Repeat(fmt.Sprintf("%06d", i), 200) // a realistic ~1.2 KB entry
		return cr
	}
	if err := c.Put(ctx, k, credsFor(0)); err != nil {
		t.Fatal(err)
	}
	const writes = 200
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				got, ok := c.Get(k)
				if !ok {
					t.Error("Get missed while the entry was being replaced")
					return
				}
				var i int
				fmt.Sscanf(got.AccessKeyID, "ASIA%06d", &i)
				if want := credsFor(i); !sameCreds(got, want) {
					t.Errorf("Get returned a mixed entry %v", got)
					return
				}
			}
		})
	}
	for i := 1; i <= writes; i++ {
		if err := c.Put(ctx, k, credsFor(i)); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if strings.Contains(logs.String(), "discarded") {
		t.Errorf("a reader saw an unusable entry:\n%s", logs)
	}
	if names := dirNames(t, c.Dir()); len(names) != 2 {
		t.Errorf("directory holds %v, want only the entry and its lock", names)
	}
}

// TestNoSecretsInLogs drives every logging path with a debug logger, text and JSON, and
// checks that neither the secret access key nor the session token appears.
func TestNoSecretsInLogs(t *testing.T) {
	k := testKey()
	valid := mustEncode(t, k, testCreds(testNow.Add(time.Hour)))
	for _, handler := range []string{"text", "json"} {
		t.Run(handler, func(t *testing.T) {
			var logs syncBuffer
			hopts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(&logs, hopts)
			if handler == "json" {
				h = slog.NewJSONHandler(&logs, hopts)
			}
			c, _ := testCache(t, func(o *Options) { o.Logger = slog.New(h) })
			path := c.entryPath(k.id())
			ctx := context.Background()
			f := &counter{cr: testCreds(testNow.Add(time.Hour))}
			plant := func(data []byte) {
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c.GetOrFetch(ctx, k, f.fetch) // miss, store
			c.Get(k)                      // hit
			c.GetOrFetch(ctx, k, f.fetch) // hit
			for _, bad := range [][]byte{
				valid[:bytes.Index(valid, []byte(testSecret))+20],
				bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":1,"`+testSecret+`":"`+testToken+`"`), 1),
				bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":"`+testToken+`"`), 1),
				bytes.Replace(valid, []byte(`"1h0m0s"`), []byte(`"`+testSecret+`"`), 1),
				bytes.Replace(valid, []byte(`"`+testSecret+`"`), []byte(testSecret), 1),
				bytes.Replace(valid, []byte(`"`+testToken+`"`), []byte(`{"`+testToken+`":1}`), 1),
				bytes.Replace(valid, []byte(`"expiration":"`), []byte(`"expiration":"`+testToken), 1),
				append(valid, []byte(testSecret)...),
			} {
				plant(bad)
				c.Get(k)
				c.GetOrFetch(ctx, k, f.fetch)
			}
			stale := *c
			stale.now = func() time.Time { return testNow.Add(time.Hour) }
			stale.Get(k) // expires too soon
			if err := c.Clear(); err != nil {
				t.Fatal(err)
			}
			c.GetOrFetch(ctx, k, func(context.Context) (creds.Credentials, error) {
				return creds.Credentials{SecretAccessKey: testSecret, SessionToken: testToken}, nil
			}) // cannot be stored: warning
			out := logs.String()
			for _, want := range []string{"cache hit", "truncated", "unknown field", "wrong type", "duration", "data after", "expires too soon", "not stored"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q; not every path was exercised:\n%s", want, out)
				}
			}
			assertNoSecrets(t, "log output", out)
		})
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := testCreds(testNow)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "creds", c, "ptr", &c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "creds", c, "ptr", &c)
	for _, out := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c), fmt.Sprintf("%v %+v %#v", &c, &c, &c),
		logs.String(),
	} {
		assertNoSecrets(t, "formatted credentials", out)
		if !strings.Contains(out, c.AccessKeyID) {
			t.Errorf("%q lacks the access key id", out)
		}
	}
}

// TestLeftoverTemporaryFileIsRemoved: a writer killed between creating its temporary file
// and renaming it leaves .tmp-<id>-*; the next miss of that key removes it, and files of
// other keys (which may be being written right now) are left alone.
func TestLeftoverTemporaryFileIsRemoved(t *testing.T) {
	c, _ := testCache(t)
	k := testKey()
	other := testKey()
	other.RoleARN = "arn:aws:iam::123456789012:role/other"
	leftover := filepath.Join(c.Dir(), ".tmp-"+k.id()+"-123456")
	busy := filepath.Join(c.Dir(), ".tmp-"+other.id()+"-654321")
	for _, f := range []string{leftover, busy} {
		if err := os.WriteFile(f, []byte(`{"version":1,"credentials":{"secret_access_key":"`+testSecret+`"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := &counter{cr: testCreds(testNow.Add(time.Hour))}
	if _, _, err := c.GetOrFetch(context.Background(), k, f.fetch); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("the leftover of an interrupted write is still there: %v", err)
	}
	if _, err := os.Stat(busy); err != nil {
		t.Fatalf("another key's temporary file was removed: %v", err)
	}
}
