package plugins_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/internal/pb"
)

// callInfo connects to the plugin socket at addr without any credentials of its own and
// calls Info, as any local process could try to.
func callInfo(addr string) error {
	conn, err := grpc.NewClient("unix:"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = pb.NewBackendClient(conn).Info(ctx, &pb.InfoRequest{}, grpc.WaitForReady(false))
	return err
}

// strangerDial is the test binary run as another process (AWSKEEP_TEST_HOST=dial): it
// tries to use the plugin at $AWSKEEP_TEST_ADDR and prints what happened.
func strangerDial() int {
	if err := callInfo(os.Getenv("AWSKEEP_TEST_ADDR")); err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	fmt.Println("answered")
	return 0
}

// runStranger runs the test binary at exe as a stranger to the plugin at addr, with cred
// (nil: this user), and returns its report.
func runStranger(t *testing.T, exe, addr string, cred *syscall.Credential) string {
	t.Helper()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "AWSKEEP_TEST_HOST=dial", "AWSKEEP_TEST_ADDR="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the stranger process failed: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestChannelAdmitsOnlyItsHost: on the plugin's socket only the host that started it gets
// an answer. Another process of the same user is hung up on by the plugin (its SO_PEERCRED
// pid is not the plugin's parent); another user cannot even reach the socket (its
// directory is private).
func TestChannelAdmitsOnlyItsHost(t *testing.T) {
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	addr := plugins.PluginAddr(p)
	if addr.Network() != "unix" {
		t.Fatalf("the plugin listens on %s %s, want a unix socket", addr.Network(), addr)
	}
	dir := filepath.Dir(addr.String())
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Fatalf("the socket's directory %s has mode %04o, want 0700", dir, perm)
	}

	t.Run("the host, without credentials of its own, is answered", func(t *testing.T) {
		// The control: this process is the plugin's parent, so the same call that the
		// strangers make below succeeds here.
		if err := callInfo(addr.String()); err != nil {
			t.Fatalf("the plugin refused its own host: %v", err)
		}
	})
	t.Run("another process of the same user is refused", func(t *testing.T) {
		if got := runStranger(t, os.Args[0], addr.String(), nil); !strings.HasPrefix(got, "refused:") {
			t.Fatalf("a stranger of the same user got: %s", got)
		}
	})
	t.Run("another user cannot reach the socket", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Fatal("this test runs as root (as make test does), to start a process as another user")
		}
		// The stranger's copy of the test binary, where user nobody may run it.
		exeDir := t.TempDir()
		if err := os.Chmod(exeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for d := filepath.Dir(exeDir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		exe := filepath.Join(exeDir, "stranger")
		copyBinary(t, exe, 0o755)
		got := runStranger(t, exe, addr.String(), &syscall.Credential{Uid: 65534, Gid: 65534})
		if !strings.HasPrefix(got, "refused:") || !strings.Contains(got, "permission denied") {
			t.Fatalf("user nobody got: %s", got)
		}
	})
}
