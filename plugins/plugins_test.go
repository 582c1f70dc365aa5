package plugins_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// The test binary doubles as a plugin: with AWSKEEP_TEST_PLUGIN set, TestMain serves a
// backend instead of running tests, so the tests below talk to a real subprocess.
func TestMain(m *testing.M) {
	switch os.Getenv("AWSKEEP_TEST_HOST") {
	case "nondumpable":
		os.Exit(nonDumpableHost())
	case "noproc":
		os.Exit(noProcHost())
	case "dial":
		os.Exit(strangerDial())
	}
	switch os.Getenv("AWSKEEP_TEST_PLUGIN") {
	case "":
		os.Exit(m.Run())
	case "errors":
		plugins.Serve(errorBackend{})
	case "lister":
		plugins.Serve(listerBackend{})
	case "badaudit":
		plugins.ServeMalformedAuditLog(errorBackend{})
	case "v12":
		plugins.ServeProtocol12(errorBackend{})
	case "stdout":
		fmt.Println("a vendor library says hello on stdout")
		plugins.Serve(errorBackend{})
	case "exit":
		os.Exit(2)
	case "sleep":
		// Stuck before its handshake, like a plugin whose vendor library blocks in its
		// constructor: it tells the test its pid and never serves.
		_ = os.WriteFile(os.Getenv("AWSKEEP_TEST_PIDFILE"), fmt.Appendf(nil, "%d", os.Getpid()), 0o600)
		select {}
	case "stuck":
		plugins.Serve(stuckBackend{})
	case "marker":
		_ = os.WriteFile(os.Getenv("AWSKEEP_TEST_MARKER"), []byte("ran\n"), 0o600)
		plugins.Serve(errorBackend{})
	}
	os.Exit(0)
}

// errorBackend fails each HMAC with the sentinel named by the message, and crashes on "segv".
type errorBackend struct{}

var sentinels = map[string]error{
	"ErrKeyNotFound": plugins.ErrKeyNotFound, "ErrPINIncorrect": plugins.ErrPINIncorrect,
	"ErrPINLocked": plugins.ErrPINLocked, "ErrDeviceUnavailable": plugins.ErrDeviceUnavailable,
	"ErrKeyExists": plugins.ErrKeyExists, "ErrAmbiguousKey": plugins.ErrAmbiguousKey,
	"ErrUnsupported": plugins.ErrUnsupported, "ErrInvalidKeyURI": plugins.ErrInvalidKeyURI,
	"ErrPermissionDenied": plugins.ErrPermissionDenied, "ErrMessageTooLarge": plugins.ErrMessageTooLarge,
	"ErrDevice": plugins.ErrDevice,
}

// Info reports, in Version, what the hardening tests look at from the outside: the pid and
// whether the process is dumpable (prctl PR_GET_DUMPABLE).
func (errorBackend) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: "errors", ProtocolVersion: plugins.ProtocolVersion, Schemes: []string{"errors"},
		Version: processReport()}, nil
}

func (errorBackend) HMAC(ctx context.Context, _ plugins.Key, msg []byte) ([]byte, error) {
	switch string(msg) {
	case "segv":
		_ = syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	case "panic":
		panic("vendor wrapper exploded")
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s, ok := sentinels[string(msg)]; ok {
		return nil, fmt.Errorf("test: device said no: %w", s)
	}
	return nil, errors.New("an error with no sentinel")
}

func (errorBackend) ImportKey(context.Context, plugins.Key, []byte, plugins.ImportOptions) error {
	return nil
}

func (errorBackend) DescribeKey(context.Context, plugins.Key) (plugins.KeyDescription, error) {
	return plugins.KeyDescription{}, nil
}

func (errorBackend) DeleteKey(context.Context, plugins.Key) error { return nil }

// stuckBackend wedges the whole plugin in HMAC, whatever its context says: it stops itself
// (SIGSTOP), so it answers nothing more, not even go-plugin's graceful shutdown. A vendor
// library can wedge a plugin this way: a PKCS#11 module-path naming a FIFO blocks dlopen,
// which holds the loader lock every new thread needs.
type stuckBackend struct{ errorBackend }

func (stuckBackend) HMAC(context.Context, plugins.Key, []byte) ([]byte, error) {
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	select {}
}

func launch(t *testing.T, mode string, optFns ...func(*plugins.LaunchOptions)) (*plugins.Plugin, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	optFns = append(optFns, func(o *plugins.LaunchOptions) { o.Env = append(o.Env, "AWSKEEP_TEST_PLUGIN="+mode) })
	p, err := plugins.Launch(ctx, os.Args[0], optFns...)
	if err == nil {
		t.Cleanup(p.Close)
	}
	return p, err
}

func TestErrorsKeepTheirIdentityAcrossTheProcessBoundary(t *testing.T) {
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	for name, sentinel := range sentinels {
		t.Run(name, func(t *testing.T) {
			_, err := p.HMAC(context.Background(), plugins.Key{URI: "errors:"}, []byte(name))
			if !errors.Is(err, sentinel) {
				t.Fatalf("got %v, want errors.Is %v", err, sentinel)
			}
			if !strings.Contains(err.Error(), "test: device said no") {
				t.Fatalf("the plugin's message was lost: %q", err)
			}
			for other, s := range sentinels {
				if other != name && errors.Is(err, s) {
					t.Fatalf("error also matches %s", other)
				}
			}
		})
	}
	t.Run("no sentinel becomes ErrDevice", func(t *testing.T) {
		_, err := p.HMAC(context.Background(), plugins.Key{}, []byte("other"))
		if !errors.Is(err, plugins.ErrDevice) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a panic in the backend is an error, not a dead plugin", func(t *testing.T) {
		_, err := p.HMAC(context.Background(), plugins.Key{}, []byte("panic"))
		if !errors.Is(err, plugins.ErrDevice) || !strings.Contains(err.Error(), "vendor wrapper exploded") {
			t.Fatalf("got %v", err)
		}
		if _, err := p.HMAC(context.Background(), plugins.Key{}, []byte("ErrKeyNotFound")); !errors.Is(err, plugins.ErrKeyNotFound) {
			t.Fatalf("plugin did not survive the panic: %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := p.HMAC(ctx, plugins.Key{}, []byte("hang"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestInfoOverGRPC(t *testing.T) {
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Info(context.Background())
	if err != nil || info.Name != "errors" || info.ProtocolVersion != plugins.ProtocolVersion {
		t.Fatalf("Info = %+v, %v", info, err)
	}
}

func TestCrashIsReportedWithItsSignal(t *testing.T) {
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.HMAC(context.Background(), plugins.Key{}, []byte("segv"))
	if !errors.Is(err, plugins.ErrPluginUnavailable) {
		t.Fatalf("got %v, want ErrPluginUnavailable", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !p.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.ExitReason(); got != "SIGSEGV" {
		t.Fatalf("ExitReason = %q, want SIGSEGV", got)
	}
}

func TestLaunchFailures(t *testing.T) {
	t.Run("stdout before serving breaks the handshake, not the host", func(t *testing.T) {
		_, err := launch(t, "stdout")
		if !errors.Is(err, plugins.ErrPluginUnavailable) || !strings.Contains(err.Error(), "broken handshake") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("exit during start", func(t *testing.T) {
		_, err := launch(t, "exit")
		if !errors.Is(err, plugins.ErrPluginUnavailable) || !strings.Contains(err.Error(), "exited during start") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("checksum mismatch", func(t *testing.T) {
		wrong := sha256.Sum256([]byte("not the binary"))
		_, err := launch(t, "errors", func(o *plugins.LaunchOptions) { o.SHA256 = wrong[:] })
		if !errors.Is(err, plugins.ErrPluginUnavailable) || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("checksum match", func(t *testing.T) {
		f, err := os.Open(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			t.Fatal(err)
		}
		if _, err := launch(t, "errors", func(o *plugins.LaunchOptions) { o.SHA256 = h.Sum(nil) }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing binary", func(t *testing.T) {
		_, err := plugins.Launch(context.Background(), "/nonexistent/awskeep-plugin-x")
		if !errors.Is(err, plugins.ErrPluginUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestKeyNeverPrintsThePIN(t *testing.T) {
	k := plugins.Key{URI: "example:name=a", PIN: "s3cr3t"}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q", k, k, k, k, k), k.String(), k.LogValue().String()} {
		if strings.Contains(s, "s3cr3t") {
			t.Fatalf("PIN printed: %s", s)
		}
	}
}
