//go:build cgo

package pkcs11backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// logBuffer is a Logger's output, safe for the test and the backend to share.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// quietBackend is a Backend that logs into the returned buffer.
func quietBackend() (*Backend, *logBuffer) {
	var buf logBuffer
	return New(func(o *Options) { o.Logger = pluginLogger(&buf) }), &buf
}

// tokenState reads, past the backend's own lookups, how many keys sel names on the token
// and how many temporary keys of interrupted replacements of it are there.
func tokenState(t *testing.T, k plugins.Key) (named, leftovers int) {
	t.Helper()
	sel, err := parseSelector(k.URI, DefaultModulePath)
	if err != nil {
		t.Fatal(err)
	}
	err = withSession(sel, k.PIN, func(s *session) error {
		hs, err := s.find(sel)
		if err != nil {
			return err
		}
		left, err := s.leftovers(sel, true)
		named, leftovers = len(hs), len(left)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return named, leftovers
}

// macOf returns which of mats the key k holds, by one HMAC through b.
func macOf(t *testing.T, b *Backend, k plugins.Key, mats map[string][]byte) string {
	t.Helper()
	msg := []byte("20260102")
	got, err := b.HMAC(context.Background(), k, msg)
	if err != nil {
		t.Fatalf("HMAC after the interruption: %v", err)
	}
	for name, mat := range mats {
		if bytes.Equal(got, wantHMAC(mat, msg)) {
			return name
		}
	}
	t.Fatal("HMAC matches neither the old nor the new key")
	return ""
}

// TestReplaceInterrupted stops ImportKey with Overwrite after each of its steps, as a
// crash or a kill would (nothing undone), for URIs naming the key by label, by id and by
// both. Whatever the step, the URI must never name two keys; the next operation must find
// exactly one, holding the old or the new secret; and the next import --force must leave
// one key and no leftovers.
func TestReplaceInterrupted(t *testing.T) {
	oldMat, newMat, thirdMat := material(exampleSecret), material(strings.Repeat("N", 40)), material(strings.Repeat("T", 40))
	mats := map[string][]byte{"old": oldMat, "new": newMat}
	// The key the URI names right after an interruption at each step: the old one until
	// the old one is deleted, then the new one (renamed by the next lookup if need be).
	want := map[importStep]string{
		stepCreate: "old", stepCheck: "old", stepCommit: "old", stepDestroy: "new", stepRename: "new",
	}
	kinds := []struct {
		name string
		uri  func(label string, id byte) string
	}{
		{"label", func(label string, _ byte) string {
			return mainToken.URI(keyuri.Attr{Name: "object", Value: label})
		}},
		{"id", func(_ string, id byte) string {
			return mainToken.URI(keyuri.Attr{Name: "id", Value: string([]byte{0x7e, id})})
		}},
		{"label and id", func(label string, id byte) string {
			return mainToken.URI(keyuri.Attr{Name: "object", Value: label}, keyuri.Attr{Name: "id", Value: string([]byte{0x7f, id})})
		}},
	}
	for _, kind := range kinds {
		for i, step := range importSteps {
			t.Run(kind.name+"/"+string(step), func(t *testing.T) {
				ctx := context.Background()
				k := plugins.Key{URI: kind.uri(keyLabel(t, ""), byte(i)), PIN: testPIN}
				b, logs := quietBackend()
				mustImport(t, b, k, oldMat)

				b.interrupt = func(s importStep) bool { return s == step }
				err := b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true})
				if !errors.Is(err, errInterrupted) {
					t.Fatalf("ImportKey stopped after %s: %v, want the test's interruption", step, err)
				}

				// The state the interruption left, before anything repairs it.
				if named, _ := tokenState(t, k); named > 1 {
					t.Fatalf("after an interruption at %s the URI names %d keys", step, named)
				}

				// A fresh backend, as the next process would be.
				b2, logs2 := quietBackend()
				if got := macOf(t, b2, k, mats); got != want[step] {
					t.Errorf("after an interruption at %s the URI names the %s key, want the %s one", step, got, want[step])
				}
				if named, _ := tokenState(t, k); named != 1 {
					t.Errorf("after a lookup the URI names %d keys, want 1", named)
				}
				if step == stepDestroy && !strings.Contains(logs2.String(), "finished an interrupted key replacement") {
					t.Errorf("renaming the committed key was not logged at debug level; log:\n%s", logs2)
				}
				d, err := b2.DescribeKey(ctx, k)
				if err != nil || !d.Exists {
					t.Fatalf("DescribeKey = %+v, %v", d, err)
				}
				if _, noted := d.Attributes["interrupted-import"]; noted != (want[step] == "old") {
					t.Errorf("DescribeKey attributes %v: interrupted-import noted %v, want %v", d.Attributes, noted, want[step] == "old")
				}

				// The next import --force cleans up and leaves exactly one key.
				if err := b2.ImportKey(ctx, k, thirdMat, plugins.ImportOptions{Overwrite: true}); err != nil {
					t.Fatalf("import --force after the interruption: %v", err)
				}
				checkKey(t, b2, k, thirdMat)
				if named, left := tokenState(t, k); named != 1 || left != 0 {
					t.Errorf("after the next import --force: %d keys named, %d leftovers; want 1 and 0", named, left)
				}
				if want[step] == "old" && !strings.Contains(logs2.String(), "removed the leftovers of an interrupted key replacement") {
					t.Errorf("removing the leftovers was not logged at debug level; log:\n%s", logs2)
				}
				for _, l := range []string{logs.String(), logs2.String()} {
					if strings.Contains(l, exampleSecret) || strings.Contains(l, testPIN) {
						t.Error("a secret reached the log")
					}
				}
			})
		}
	}
}

// TestReplace covers what a replacement leaves when it is not interrupted, and what the
// other operations do with leftovers.
func TestReplace(t *testing.T) {
	ctx := context.Background()
	oldMat, newMat := material(exampleSecret), material(strings.Repeat("N", 40))

	t.Run("complete", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, keyLabel(t, ""))
		mustImport(t, b, k, oldMat)
		if err := b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		checkKey(t, b, k, newMat)
		if named, left := tokenState(t, k); named != 1 || left != 0 {
			t.Errorf("%d keys named, %d leftovers; want 1 and 0", named, left)
		}
		d, err := b.DescribeKey(ctx, k)
		if err != nil || d.Label != keyLabel(t, "") || d.Attributes["interrupted-import"] != "" {
			t.Errorf("DescribeKey = %+v, %v", d, err)
		}
	})

	t.Run("id only keeps an empty label", func(t *testing.T) {
		b, _ := quietBackend()
		k := plugins.Key{URI: mainToken.URI(keyuri.Attr{Name: "id", Value: "\x7d\x01"}), PIN: testPIN}
		mustImport(t, b, k, oldMat)
		if err := b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		checkKey(t, b, k, newMat)
		d, err := b.DescribeKey(ctx, k)
		if err != nil || d.Label != "" || d.Attributes["id"] != "7d01" {
			t.Errorf("DescribeKey = %+v, %v; want an empty label and id 7d01", d, err)
		}
	})

	t.Run("cancelled mid-way still completes", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, keyLabel(t, ""))
		mustImport(t, b, k, oldMat)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		b.interrupt = func(s importStep) bool {
			if s == stepCreate {
				cancel() // the host gave up right after the new key was created
			}
			return false
		}
		if err := b.ImportKey(cctx, k, newMat, plugins.ImportOptions{Overwrite: true}); err != nil {
			t.Fatalf("ImportKey cancelled after the create: %v, want the replacement finished", err)
		}
		b.interrupt = nil
		checkKey(t, b, k, newMat)
		if named, left := tokenState(t, k); named != 1 || left != 0 {
			t.Errorf("%d keys named, %d leftovers; want 1 and 0", named, left)
		}
	})

	t.Run("plain import after an interruption after the delete", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, keyLabel(t, ""))
		mustImport(t, b, k, oldMat)
		b.interrupt = func(s importStep) bool { return s == stepDestroy }
		_ = b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true})
		b.interrupt = nil
		err := b.ImportKey(ctx, k, oldMat, plugins.ImportOptions{})
		if !errors.Is(err, plugins.ErrKeyExists) {
			t.Errorf("plain import: %v, want ErrKeyExists (the committed key is the key)", err)
		}
		checkKey(t, b, k, newMat)
	})

	t.Run("delete removes leftovers, nothing comes back", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, keyLabel(t, ""))
		mustImport(t, b, k, oldMat)
		b.interrupt = func(s importStep) bool { return s == stepCommit }
		_ = b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true})
		b.interrupt = nil
		if err := b.DeleteKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if d, err := b.DescribeKey(ctx, k); err != nil || d.Exists {
			t.Errorf("after delete: DescribeKey = %+v, %v; want no key (the committed one must not take its place)", d, err)
		}
		if named, left := tokenState(t, k); named != 0 || left != 0 {
			t.Errorf("after delete: %d keys named, %d leftovers; want none", named, left)
		}
	})

	t.Run("reserved label", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, tempPrefix+"x")
		err := b.ImportKey(ctx, k, oldMat, plugins.ImportOptions{})
		if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), tempPrefix) {
			t.Errorf("import under %s...: %v, want ErrInvalidKeyURI", tempPrefix, err)
		}
	})

	t.Run("a key the token cannot use is not kept", func(t *testing.T) {
		b, _ := quietBackend()
		k := key(mainToken, keyLabel(t, ""))
		mustImport(t, b, k, oldMat)
		err := b.ImportKey(ctx, k, []byte("AWS4short"), plugins.ImportOptions{Overwrite: true})
		if !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "the old key is kept") {
			t.Errorf("overwrite with a short key: %v, want ErrUnsupported saying the old key is kept", err)
		}
		checkKey(t, b, k, oldMat)
		if named, left := tokenState(t, k); named != 1 || left != 0 {
			t.Errorf("%d keys named, %d leftovers; want 1 and 0", named, left)
		}
	})
}

// TestCloseWaitsForReplacement: Close, which plugins.Serve calls when the host ends the
// plugin, lets a replacement under way reach its end, within its context.
func TestCloseWaitsForReplacement(t *testing.T) {
	ctx := context.Background()
	b, logs := quietBackend()
	k := key(mainToken, keyLabel(t, ""))
	oldMat, newMat := material(exampleSecret), material(strings.Repeat("N", 40))
	mustImport(t, b, k, oldMat)

	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close with nothing under way: %v", err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	b.interrupt = func(s importStep) bool {
		if s == stepCheck {
			close(inside)
			<-release // a slow token
		}
		return false
	}
	done := make(chan error, 1)
	go func() { done <- b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true}) }()
	<-inside

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close while a replacement is stuck: %v, want DeadlineExceeded", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- b.Close(ctx) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the replacement was under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("ImportKey: %v", err)
	}
	b.interrupt = nil
	checkKey(t, b, k, newMat)
	if !strings.Contains(logs.String(), "letting it finish") {
		t.Errorf("Close did not log that it waits; log:\n%s", logs)
	}
}

// TestPluginLoggerFormat: the lines must parse as a go-plugin host expects (hclog JSON:
// "@level" in lower case, "@message", "@timestamp" in its one layout), or the host drops
// or garbles them.
func TestPluginLoggerFormat(t *testing.T) {
	var buf bytes.Buffer
	pluginLogger(&buf).Debug("hello", "key", "k")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	for name, want := range map[string]string{"@level": "debug", "@message": "hello", "@module": "pkcs11", "key": "k"} {
		if got[name] != want {
			t.Errorf("%s = %v, want %q (line %s)", name, got[name], want, buf.String())
		}
	}
	ts, _ := got["@timestamp"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", ts); err != nil {
		t.Errorf("@timestamp: %v", err)
	}
}
