package pluginhost_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

// The test binary doubles as a plugin for scheme "crashy": TestMain serves it when the
// host starts the binary with AWSKEEP_TEST_PLUGIN set.
func TestMain(m *testing.M) {
	switch os.Getenv("AWSKEEP_TEST_PLUGIN") {
	case "crashy":
		plugins.Serve(crashy{})
		os.Exit(0)
	case "protocol-1.1":
		plugins.Serve(oldCrashy{})
		os.Exit(0)
	case "lister":
		plugins.Serve(crashyLister{})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashy answers HMAC with its own pid, and dies of SIGSEGV when asked to.
type crashy struct{}

func (crashy) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: "crashy", ProtocolVersion: plugins.ProtocolVersion, Schemes: []string{"crashy"}}, nil
}

func (crashy) HMAC(_ context.Context, _ plugins.Key, msg []byte) ([]byte, error) {
	if string(msg) == "segv" {
		_ = syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	}
	return fmt.Appendf(nil, "%d", os.Getpid()), nil
}

func (crashy) ImportKey(context.Context, plugins.Key, []byte, plugins.ImportOptions) error {
	return nil
}
func (crashy) DescribeKey(context.Context, plugins.Key) (plugins.KeyDescription, error) {
	return plugins.KeyDescription{}, nil
}
func (crashy) DeleteKey(context.Context, plugins.Key) error { return nil }

// oldCrashy says it was built for protocol 1.1, whose plugin side checked nobody.
type oldCrashy struct{ crashy }

func (oldCrashy) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: "crashy", ProtocolVersion: "1.1", Schemes: []string{"crashy"}}, nil
}

// installCrashy puts a copy of the test binary in a plugin directory as awskeep-plugin-crashy.
func installCrashy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(dir, "awskeep-plugin-crashy"), os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPoolStartsAFreshPluginAfterACrash(t *testing.T) {
	t.Setenv("AWSKEEP_TEST_PLUGIN", "crashy")
	t.Setenv("AWSKEEP_PLUGIN_ENV", "AWSKEEP_TEST_PLUGIN") // plugins see only listed variables
	pool := pluginhost.NewPool(nil, opts(installCrashy(t)))
	defer pool.Close()
	ctx := context.Background()
	key := plugins.Key{URI: "crashy:name=k"}

	first, err := pool.HMAC(ctx, key, []byte("pid"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := pool.HMAC(ctx, key, []byte("pid"))
	if err != nil || string(again) != string(first) {
		t.Fatalf("second call: %s, %v; want the same running plugin %s", again, err, first)
	}

	_, err = pool.HMAC(ctx, key, []byte("segv"))
	if !errors.Is(err, plugins.ErrPluginUnavailable) || !strings.Contains(err.Error(), "plugin crashy crashed (SIGSEGV) during HMAC") {
		t.Fatalf("crash: got %v", err)
	}

	fresh, err := pool.HMAC(ctx, key, []byte("pid"))
	if err != nil {
		t.Fatalf("the call after a crash: %v", err)
	}
	if string(fresh) == string(first) {
		t.Fatal("the pool reused the dead plugin")
	}
}

func TestPoolRoutesByScheme(t *testing.T) {
	pool := pluginhost.NewPool(nil, opts(t.TempDir()))
	defer pool.Close()
	_, err := pool.HMAC(context.Background(), plugins.Key{URI: "nosuch:name=k"}, nil)
	if !errors.Is(err, pluginhost.ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	_, err = pool.HMAC(context.Background(), plugins.Key{URI: "not a uri"}, nil)
	if !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Fatalf("got %v", err)
	}
}

// TestOldProtocolIsWarnedAbout: a plugin built for protocol 1.1 still runs, with a warning
// that says why to rebuild it; a current one gets none.
func TestOldProtocolIsWarnedAbout(t *testing.T) {
	t.Setenv("AWSKEEP_PLUGIN_ENV", "AWSKEEP_TEST_PLUGIN")
	dir := installCrashy(t)
	for _, tc := range []struct {
		mode string
		warn bool
	}{{"protocol-1.1", true}, {"crashy", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Setenv("AWSKEEP_TEST_PLUGIN", tc.mode)
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			p, _, err := pluginhost.StartPath(context.Background(), filepath.Join(dir, "awskeep-plugin-crashy"), "crashy", logger, opts(dir))
			if err != nil {
				t.Fatal(err)
			}
			p.Close()
			if got := strings.Contains(logs.String(), "does not check who connects to it; rebuild it"); got != tc.warn {
				t.Fatalf("warned %v, want %v; log:\n%s", got, tc.warn, logs.String())
			}
		})
	}
}
