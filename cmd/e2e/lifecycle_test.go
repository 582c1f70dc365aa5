package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/faultmodule"
)

// faultyUser is a user whose token is reached through the fault-injecting PKCS#11 shim.
type faultyUser struct {
	*user
	ctl *faultmodule.Control
	key string
}

func newFaultyUser(t *testing.T) *faultyUser {
	t.Helper()
	u := newUser(t)
	so := faultmodule.Build(t)
	ctl := faultmodule.NewControl(t)
	key := strings.Replace(u.keyURI("prod"), "module-path=/usr/lib/softhsm/libsofthsm2.so", "module-path="+so, 1)
	f := &faultyUser{user: u, ctl: ctl, key: key}
	mustSucceed(t, f.run(world.alice.SecretAccessKey+"\n", "import", "--key", key), "import through the shim")
	return f
}

func (f *faultyUser) run(stdin string, args ...string) result {
	f.t.Helper()
	return f.user.run(stdin, f.ctl.Environ(), args...)
}

func (f *faultyUser) credentialProcess(extra ...string) result {
	f.t.Helper()
	args := append([]string{"credential-process", "--key", f.key, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache"}, extra...)
	return f.run("", args...)
}

// pluginProcesses lists the running processes whose executable is the PKCS#11 plugin
// this package built.
func pluginProcesses(t *testing.T) []int {
	t.Helper()
	pids, err := listPluginProcesses()
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// listPluginProcesses is pluginProcesses for goroutines other than the test's (a server's
// handler), which may not call t.Fatal.
func listPluginProcesses() ([]int, error) {
	want := filepath.Join(pluginDir, "awskeep-plugin-pkcs11")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == want {
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !strings.Contains(string(stat), ") Z ") {
				pids = append(pids, pid)
			}
		}
	}
	return pids, nil
}

// noPluginLeft fails the test if a plugin process outlives the command that started it,
// allowing a moment for the kernel to reap it.
func noPluginLeft(t *testing.T) {
	t.Helper()
	var left []int
	for range 50 {
		if left = pluginProcesses(t); len(left) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL) // ours: started by this test's awskeep
	}
	t.Fatalf("plugin processes left behind: %v", left)
}

// TestFaultyModule runs credential-process against a PKCS#11 library that crashes, aborts,
// hangs or prints to stdout inside C_Sign: the host reports the cause in time, its stdout
// stays clean, no plugin is left behind, and the next invocation works once the fault is
// gone.
func TestFaultyModule(t *testing.T) {
	f := newFaultyUser(t)
	tests := []struct {
		fault faultmodule.Fault
		extra []string
		want  []string
	}{
		{faultmodule.SegV, nil, []string{"plugin pkcs11 crashed (SIGSEGV) during HMAC"}},
		{faultmodule.Abort, nil, []string{"plugin pkcs11 crashed (SIGABRT) during HMAC"}},
		{faultmodule.Hang, []string{"--timeout", "3s"}, []string{"did not answer in time", "raise --timeout"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			f.ctl.Set(tt.fault)
			mustFailClearly(t, f.credentialProcess(tt.extra...), tt.want...)
			noPluginLeft(t)
			f.ctl.Set(faultmodule.None)
			mustSucceed(t, f.credentialProcess(), "credential-process after the fault is gone")
			noPluginLeft(t)
		})
	}
	for _, fault := range []faultmodule.Fault{faultmodule.Stdout, faultmodule.Flood} {
		t.Run(string(fault), func(t *testing.T) {
			f.ctl.Set(fault)
			signs := f.ctl.Count("C_Sign")
			r := f.credentialProcess()
			mustSucceed(t, r, "credential-process with a library that prints to stdout")
			if !strings.HasPrefix(r.stdout, `{"Version":1,`) || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("stdout is not exactly the credential JSON: %.200q", r.stdout)
			}
			if f.ctl.Count("C_Sign") == signs {
				t.Fatal("C_Sign never ran through the shim: the test proves nothing")
			}
			noPluginLeft(t)
			f.ctl.Set(faultmodule.None)
		})
	}
}

func TestWrongPINCostsExactlyOneLogin(t *testing.T) {
	f := newFaultyUser(t)
	before := f.ctl.LoginCount()
	wrong := "0000-wrong"
	f.secrets = append(f.secrets, wrong)
	key := strings.Replace(f.key, "&pin-source=file:"+f.pinFile, "", 1)
	r := f.user.run("", append(f.ctl.Environ(), "AWSKEEP_PIN="+wrong), "credential-process", "--key", key,
		"--access-key-id", world.alice.AccessKeyID, "--endpoint-url", world.server.URL, "--no-cache")
	mustFailClearly(t, r, "PIN or password incorrect", "not retried")
	if got := f.ctl.LoginCount() - before; got != 1 {
		t.Fatalf("a wrong PIN reached the token %d times, want exactly 1", got)
	}
	mustSucceed(t, f.credentialProcess(), "credential-process with the right PIN right after")
}

// TestHostKilledLeavesNoPlugin kills awskeep with SIGKILL while its plugin is stuck in the
// device: the plugin must go too.
func TestHostKilledLeavesNoPlugin(t *testing.T) {
	f := newFaultyUser(t)
	f.ctl.Set(faultmodule.Hang)
	defer f.ctl.Set(faultmodule.None)
	signs := f.ctl.Count("C_Sign")
	cmd := exec.Command(awskeep, "credential-process", "--key", f.key, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache", "--timeout", "60s")
	cmd.Env = f.environ(f.ctl.Environ()...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the plugin is inside C_Sign, hung.
	deadline := time.Now().Add(30 * time.Second)
	for f.ctl.Count("C_Sign") == signs {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the plugin never reached C_Sign")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(pluginProcesses(t)) == 0 {
		t.Fatal("no plugin process while the call hangs: the test proves nothing")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(time.Second)
	if left := pluginProcesses(t); len(left) != 0 {
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatalf("a second after SIGKILL of the host, plugin processes remain: %v", left)
	}
}

// TestPluginClosedWhileSTSAnswers: a cold credential-process closes the plugin as soon as
// the device has signed, so that the plugin winds down during the STS round trip, not
// after it. An STS stand-in in front of moto holds each request until no plugin process
// runs any more (or three seconds have passed), then passes it on: the credentials must
// work, and the plugin must have gone before STS answered.
func TestPluginClosedWhileSTSAnswers(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	upstream, err := url.Parse(world.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []bool // per request: did the plugin exit before it was passed on?
	forward := httputil.NewSingleHostReverseProxy(upstream)
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gone := false
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if pids, err := listPluginProcesses(); err == nil && len(pids) == 0 {
				gone = true
				break
			}
		}
		mu.Lock()
		held = append(held, gone)
		mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	defer sts.Close()

	r := u.run("", nil, "credential-process", "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", sts.URL, "--role-arn", world.roleARN, "--no-cache")
	mustSucceed(t, r, "credential-process through the holding STS")
	c, err := parseCredentials(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	if arn := callerARN(t, c); !strings.Contains(arn, "assumed-role/deployer/") {
		t.Errorf("credentials are for %s, want the deployer role", arn)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(held) != 1 {
		t.Fatalf("STS got %d requests, want 1", len(held))
	}
	if !held[0] {
		t.Error("the plugin still ran three seconds into the STS call: it is closed only after STS answers")
	}
	noPluginLeft(t)
}
