package plugins_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/awskeep/awskeep/plugins"
)

// nobody is the uid the tests give files and directories that "another user" owns.
const nobody = 65534

// closeGrace is how long Plugin.Close waits for a plugin to exit by itself before it kills it.
const closeGrace = 2 * time.Second

// processReport is errorBackend's Info.Version: its pid and prctl(PR_GET_DUMPABLE).
func processReport() string {
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		d = -1
	}
	return fmt.Sprintf("pid=%d dumpable=%d", os.Getpid(), d)
}

// pluginPid asks a running errorBackend (or stuckBackend) for its pid.
func pluginPid(t *testing.T, p plugins.Backend) int {
	t.Helper()
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pid, dumpable int
	if _, err := fmt.Sscanf(info.Version, "pid=%d dumpable=%d", &pid, &dumpable); err != nil {
		t.Fatalf("Info.Version %q: %v", info.Version, err)
	}
	return pid
}

// gone fails the test unless process pid has ended and been reaped (a zombie still answers
// kill 0); it kills what it finds, so that a failing test leaves nothing behind.
func gone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // the plugin this test started
	t.Fatalf("plugin process %d is still there (running or not reaped)", pid)
}

// TestLaunchStuckBeforeTheHandshakeIsKilled: a plugin that never serves costs the start
// timeout (or the context's deadline) and no more, is killed and reaped, and the error says
// which bound ran out.
func TestLaunchStuckBeforeTheHandshakeIsKilled(t *testing.T) {
	tests := []struct {
		name          string
		ctxTimeout    time.Duration
		startTimeout  time.Duration
		wantInMessage string
	}{
		// 3 s: the plugin is this test binary, which under -race on a busy CI machine can
		// take more than a second to reach the point where it writes its pid.
		{"context deadline", 3 * time.Second, 0, "did not start within 3s; killed"},
		{"StartTimeout", 0, 3 * time.Second, "did not start within 3s; killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			start := time.Now()
			p, err := plugins.Launch(ctx, os.Args[0], func(o *plugins.LaunchOptions) {
				o.Env = []string{"AWSKEEP_TEST_PLUGIN=sleep", "AWSKEEP_TEST_PIDFILE=" + pidFile}
				if tt.startTimeout > 0 {
					o.StartTimeout = tt.startTimeout
				}
			})
			elapsed := time.Since(start)
			if err == nil {
				p.Close()
				t.Fatal("a plugin that never served was started")
			}
			data, rerr := os.ReadFile(pidFile)
			pid, perr := strconv.Atoi(string(data))
			if rerr != nil || perr != nil {
				t.Fatalf("the plugin never ran (pid file: %v %v); the test proves nothing", rerr, perr)
			}
			gone(t, pid)
			if limit := 3*time.Second + closeGrace + time.Second; elapsed > limit {
				t.Fatalf("Launch returned after %v, want at most %v", elapsed, limit)
			}
			if !errors.Is(err, plugins.ErrPluginUnavailable) || !errors.Is(err, context.DeadlineExceeded) ||
				!strings.Contains(err.Error(), tt.wantInMessage) {
				t.Fatalf("got %v, want ErrPluginUnavailable and DeadlineExceeded saying %q", err, tt.wantInMessage)
			}
		})
	}
}

// TestCloseIsBoundedWhenACallHangs: a plugin stuck in a call that ignores its context (C
// code blocked in the kernel) cannot answer go-plugin's graceful shutdown. Close must still
// return after a short grace period, with the process killed and reaped.
func TestCloseIsBoundedWhenACallHangs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := plugins.Launch(ctx, os.Args[0], func(o *plugins.LaunchOptions) { o.Env = []string{"AWSKEEP_TEST_PLUGIN=stuck"} })
	if err != nil {
		t.Fatal(err)
	}
	pid := pluginPid(t, p)
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }() // if Close never returns

	callCtx, callCancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer callCancel()
	_, err = p.HMAC(callCtx, plugins.Key{URI: "errors:"}, []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "plugin plugins.test") {
		t.Fatalf("HMAC: got %v, want DeadlineExceeded naming the plugin", err)
	}

	start := time.Now()
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("Close is still waiting after 15s")
	}
	if elapsed, limit := time.Since(start), closeGrace+1500*time.Millisecond; elapsed > limit {
		t.Fatalf("Close took %v, want at most %v", elapsed, limit)
	}
	gone(t, pid)
	if !p.Exited() {
		t.Fatal("Exited is false after Close")
	}
}

// environOf reads the environment a process was started with.
func environOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// TestPluginEnvironmentIsAllowListed: a plugin sees what vendor libraries need and the
// variables an operator lists in $AWSKEEP_PLUGIN_ENV, never the host's secrets or anything
// else.
func TestPluginEnvironmentIsAllowListed(t *testing.T) {
	host := map[string]string{
		"AWSKEEP_PIN":           "4913-host-pin",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN":     "session-token",
		"AWS_ACCESS_KEY_ID":     "AKIAIOSFODNN7EXAMPLE",
		"UNLISTED_HOST_VAR":     "x",
		"SOFTHSM2_CONF":         "/etc/awskeep-test/softhsm2.conf",
		"TPM2TOOLS_TCTI":        "swtpm:port=2321",
		"LC_ALL":                "C.UTF-8",
		"VENDOR_ONE":            "1",
		"VENDOR_TWO":            "2",
		"VAULT_ADDR":            "https://vault.example:8200",
		"VAULT_TOKEN":           "hvs.host-token",
		// Listing a secret does not pass it.
		plugins.PluginEnvVar: "VENDOR_ONE, VENDOR_TWO AWSKEEP_PIN",
	}
	for k, v := range host {
		t.Setenv(k, v)
	}
	p, err := launch(t, "errors", func(o *plugins.LaunchOptions) {
		// Explicit entries pass too, but never a secret's name.
		o.Env = append(o.Env, "EXPLICIT=yes", "AWS_SECRET_ACCESS_KEY=explicit")
	})
	if err != nil {
		t.Fatal(err)
	}
	env := environOf(t, pluginPid(t, p))
	for _, k := range []string{"SOFTHSM2_CONF", "TPM2TOOLS_TCTI", "LC_ALL", "VENDOR_ONE", "VENDOR_TWO", "VAULT_ADDR"} {
		if env[k] != host[k] {
			t.Errorf("plugin environment: %s=%q, want %q", k, env[k], host[k])
		}
	}
	for k, want := range map[string]string{"PATH": os.Getenv("PATH"), "EXPLICIT": "yes", "AWSKEEP_TEST_PLUGIN": "errors"} {
		if env[k] != want {
			t.Errorf("plugin environment: %s=%q, want %q", k, env[k], want)
		}
	}
	for _, k := range []string{"AWSKEEP_PIN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
		"UNLISTED_HOST_VAR", "VAULT_TOKEN", plugins.PluginEnvVar} {
		if v, ok := env[k]; ok {
			t.Errorf("plugin environment has %s (%d bytes)", k, len(v))
		}
	}
	if env[plugins.Handshake.MagicCookieKey] != plugins.Handshake.MagicCookieValue {
		t.Errorf("plugin environment lacks go-plugin's magic cookie")
	}
}

// TestServeHardensThePluginProcess: Serve makes the plugin non-dumpable with no core file
// limit, so that a crash leaves no core holding a PIN, and gives the process its name back
// (the kernel names a process executed through /proc/self/fd/N "N").
func TestServeHardensThePluginProcess(t *testing.T) {
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.Version, " dumpable=0") {
		t.Errorf("plugin reports %q, want dumpable=0", info.Version)
	}
	pid := pluginPid(t, p)
	f, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max core file size"); ok {
			found = true
			if fields := strings.Fields(rest); len(fields) < 2 || fields[0] != "0" || fields[1] != "0" {
				t.Errorf("plugin core limit: %q, want 0 0", strings.TrimSpace(rest))
			}
		}
	}
	if !found {
		t.Fatal("no core file size in /proc/PID/limits")
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(comm)), filepath.Base(os.Args[0]); got != want {
		t.Errorf("plugin process name %q, want %q", got, want)
	}
}

// copyBinary copies the test binary (which serves as a plugin) to path with mode.
func copyBinary(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
	return path
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatalf("chown %s: %v (the tests run as root)", path, err)
	}
}

// TestLaunchRefusesWhatOthersCouldChange: Launch runs only a file that nobody but root and
// the current user could have written or replaced, OpenSSH StrictModes style: the file and
// every directory on the way to it, through each symlink.
func TestLaunchRefusesWhatOthersCouldChange(t *testing.T) {
	const bin = "awskeep-plugin-errors"
	tests := []struct {
		name string
		// setup returns the path to launch and what the refusal must say ("" for none).
		setup func(t *testing.T, root string) (path string, wants []string)
	}{
		{"a private directory", func(t *testing.T, root string) (string, []string) {
			copyBinary(t, filepath.Join(root, bin), 0o755)
			return filepath.Join(root, bin), nil
		}},
		{"a file writable by others", func(t *testing.T, root string) (string, []string) {
			path := filepath.Join(root, bin)
			copyBinary(t, path, 0o757)
			return path, []string{path + " is writable by group or others (mode 0757)", "chmod go-w " + path}
		}},
		{"a file of another user", func(t *testing.T, root string) (string, []string) {
			path := filepath.Join(root, bin)
			copyBinary(t, path, 0o755)
			chown(t, path, nobody)
			return path, []string{path + " belongs to another user (uid 65534)"}
		}},
		{"a file that is not executable", func(t *testing.T, root string) (string, []string) {
			path := filepath.Join(root, bin)
			copyBinary(t, path, 0o644)
			return path, []string{path + " is not executable", "chmod u+x " + path}
		}},
		{"a group-writable directory", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o775)
			copyBinary(t, filepath.Join(dir, bin), 0o755)
			return filepath.Join(dir, bin), []string{"directory " + dir + " is writable by group or others (mode 0775)", "chmod go-w " + dir}
		}},
		{"a world-writable directory above", func(t *testing.T, root string) (string, []string) {
			up := mkdir(t, filepath.Join(root, "shared"), 0o777)
			dir := mkdir(t, filepath.Join(up, "plugins"), 0o700)
			copyBinary(t, filepath.Join(dir, bin), 0o755)
			return filepath.Join(dir, bin), []string{"directory " + up + " is writable", "chmod go-w " + up}
		}},
		{"a directory of another user", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o755)
			copyBinary(t, filepath.Join(dir, bin), 0o755)
			chown(t, dir, nobody)
			return filepath.Join(dir, bin), []string{"directory " + dir + " belongs to another user (uid 65534)"}
		}},
		{"a sticky world-writable directory above a private one", func(t *testing.T, root string) (string, []string) {
			up := mkdir(t, filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
			dir := mkdir(t, filepath.Join(up, "mine"), 0o700)
			copyBinary(t, filepath.Join(dir, bin), 0o755)
			return filepath.Join(dir, bin), nil
		}},
		{"a symlink in a world-writable directory", func(t *testing.T, root string) (string, []string) {
			copyBinary(t, filepath.Join(root, "real"), 0o755)
			dir := mkdir(t, filepath.Join(root, "links"), 0o777)
			link := filepath.Join(dir, bin)
			if err := os.Symlink(filepath.Join(root, "real"), link); err != nil {
				t.Fatal(err)
			}
			return link, []string{"directory " + dir + " is writable", "chmod go-w " + dir}
		}},
		{"a symlink to a file in a world-writable directory", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "shared"), 0o777)
			copyBinary(t, filepath.Join(dir, "real"), 0o755)
			link := filepath.Join(root, bin)
			if err := os.Symlink("shared/real", link); err != nil {
				t.Fatal(err)
			}
			return link, []string{"directory " + dir + " is writable", "chmod go-w " + dir}
		}},
		{"a symlink between private directories", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "store"), 0o755)
			copyBinary(t, filepath.Join(dir, "real"), 0o755)
			link := filepath.Join(root, bin)
			if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
				t.Fatal(err)
			}
			return link, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, wants := tt.setup(t, t.TempDir())
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := plugins.Launch(ctx, path, func(o *plugins.LaunchOptions) { o.Env = []string{"AWSKEEP_TEST_PLUGIN=errors"} })
			if wants == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("started; want a refusal saying %q", wants)
			}
			if !errors.Is(err, plugins.ErrPluginUnavailable) || !errors.Is(err, plugins.ErrUnsafeFile) {
				t.Fatalf("got %v, want ErrPluginUnavailable and ErrUnsafeFile", err)
			}
			var unsafe *plugins.UnsafeFileError
			if !errors.As(err, &unsafe) {
				t.Fatalf("got %v, want an *UnsafeFileError", err)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestLaunchFromANonDumpableHost: a host that made itself non-dumpable (prctl
// PR_SET_DUMPABLE 0, so that no core and no ptrace of the same user reads its secrets) can
// still execute a plugin through /proc/self/fd: the kernel lets a process read its own
// /proc/self/fd, and the forked child, still in execve, is that process for /proc/self.
// It runs as an unprivileged user, since root may read any /proc entry anyway.
func TestLaunchFromANonDumpableHost(t *testing.T) {
	dir, err := os.MkdirTemp("", "awskeep-nondumpable-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "awskeep-plugin-errors")
	copyBinary(t, bin, 0o755)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"AWSKEEP_TEST_HOST=nondumpable", "PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "TMPDIR=" + os.TempDir()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "host dumpable=0 plugin pid=") {
		t.Fatalf("non-dumpable host as uid %d: %v\n%s", nobody, err, out)
	}
}

// nonDumpableHost is the host side of TestLaunchFromANonDumpableHost: it makes itself
// non-dumpable, then launches its own binary as a plugin.
func nonDumpableHost() int {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Println("prctl:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	p, err := plugins.Launch(ctx, self, func(o *plugins.LaunchOptions) { o.Env = []string{"AWSKEEP_TEST_PLUGIN=errors"} })
	if err != nil {
		fmt.Println("launch:", err)
		return 1
	}
	defer p.Close()
	info, err := p.Info(ctx)
	if err != nil {
		fmt.Println("info:", err)
		return 1
	}
	d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	fmt.Printf("host dumpable=%d plugin %s\n", d, info.Version)
	return 0
}

// TestLaunchWithoutProc: without /proc there is no name for the checked file; Launch says
// so and never falls back to executing the binary by its path. The host runs in a mount
// namespace of its own, with /proc unmounted.
func TestLaunchWithoutProc(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	marker := filepath.Join(t.TempDir(), "plugin-ran")
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "AWSKEEP_TEST_HOST=noproc", "AWSKEEP_TEST_MARKER="+marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("host without /proc: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "launch refused: start plugin plugins.test: /proc is not mounted") ||
		!strings.Contains(string(out), "mount /proc") {
		t.Fatalf("host without /proc says:\n%s", out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the plugin ran: Launch executed it some other way")
	}
}

// noProcHost is the host side of TestLaunchWithoutProc: it unmounts /proc in its own mount
// namespace and launches its own binary as a plugin that would leave a marker if it ran.
func noProcHost() int {
	if err := unix.Unmount("/proc", unix.MNT_DETACH); err != nil {
		fmt.Println("umount /proc:", err)
		return 1
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		fmt.Println("/proc is still there")
		return 1
	}
	p, err := plugins.Launch(context.Background(), os.Args[0], func(o *plugins.LaunchOptions) {
		o.Env = []string{"AWSKEEP_TEST_PLUGIN=marker", "AWSKEEP_TEST_MARKER=" + os.Getenv("AWSKEEP_TEST_MARKER")}
	})
	if err == nil {
		p.Close()
		fmt.Println("launched without /proc")
		return 1
	}
	if !errors.Is(err, plugins.ErrPluginUnavailable) {
		fmt.Println("launch failed, but not with ErrPluginUnavailable:", err)
		return 1
	}
	fmt.Println("launch refused:", err)
	return 0
}
