package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/faultmodule"
)

// closeGrace is how long the host waits for a plugin to exit by itself before killing it.
const closeGrace = 2 * time.Second

// runWithin runs awskeep like user.run, but gives up after limit (killing the host, whose
// plugin then dies by its parent-death signal) and reports how long the command took.
func (u *user) runWithin(limit time.Duration, extraEnv []string, args ...string) (result, time.Duration) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, awskeep, args...)
	cmd.Env = u.environ(extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		u.t.Fatalf("run awskeep: %v", err)
	}
	u.checkNoSecrets(r.stdout+r.stderr, u.secrets, "awskeep "+strings.Join(args, " "))
	return r, elapsed
}

// TestPluginStuckInItsModuleIsKilledInTime: a PKCS#11 module-path naming a FIFO blocks the
// plugin in dlopen for good, where it cannot even answer go-plugin's graceful shutdown.
// The host must still end within --timeout plus a short grace period, say which plugin
// ran out of time, and leave no plugin process behind.
func TestPluginStuckInItsModuleIsKilledInTime(t *testing.T) {
	u := newUser(t)
	fifo := filepath.Join(t.TempDir(), "libstuck.so")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	key := strings.Replace(u.keyURI("prod"), "module-path=/usr/lib/softhsm/libsofthsm2.so", "module-path="+fifo, 1)
	if !strings.Contains(key, fifo) {
		t.Fatalf("key URI %s names no module-path to replace", u.keyURI("prod"))
	}
	const timeout = 3 * time.Second
	r, elapsed := u.runWithin(time.Minute, nil, "credential-process", "--key", key, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache", "--timeout", timeout.String())
	if limit := timeout + closeGrace + 2*time.Second; elapsed > limit {
		t.Errorf("credential-process took %v, want at most %v (--timeout %v and the grace period)", elapsed, limit, timeout)
	}
	mustFailClearly(t, r, "plugin pkcs11", "--timeout")
	noPluginLeft(t)
}

// TestPluginInAWorldWritableDirectoryIsRefused: anyone could replace a plugin in a
// directory others can write, so the host refuses it and says how to fix the directory; a
// private directory under a sticky one (like /tmp) is fine.
func TestPluginInAWorldWritableDirectoryIsRefused(t *testing.T) {
	u := newUser(t)
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := copyPlugins(t)
	if err := os.Rename(dir, filepath.Join(shared, "plugins")); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(shared, "plugins")
	env := []string{"AWSKEEP_PLUGIN_DIR=" + dir}
	describe := []string{"keys", "describe", "--key", u.keyURI("prod")}

	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	mustFailClearly(t, u.run("", env, describe...), "directory "+shared+" is writable by group or others", "chmod go-w "+shared)
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, u.run("", env, describe...), "describe with plugins under a sticky directory")
}

// TestPluginEnvironmentHoldsNoSecrets: the plugin is started with an allow-listed
// environment: the host's PIN and AWS credentials never reach it; SoftHSM's configuration
// and the variables listed in $AWSKEEP_PLUGIN_ENV (here the fault module's controls) do.
func TestPluginEnvironmentHoldsNoSecrets(t *testing.T) {
	f := newFaultyUser(t)
	f.ctl.Set(faultmodule.Hang) // keeps the plugin alive in C_Sign while the test looks at it
	defer f.ctl.Set(faultmodule.None)
	signs := f.ctl.Count("C_Sign")
	hostSecret := "host-secret-" + strings.Repeat("x", 28)
	f.secrets = append(f.secrets, hostSecret)
	cmd := exec.Command(awskeep, "credential-process", "--key", f.key, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache", "--timeout", "60s")
	cmd.Env = f.environ(append(f.ctl.Environ(),
		"AWSKEEP_PLUGIN_ENV="+faultmodule.ControlEnv+","+faultmodule.LogEnv,
		"AWSKEEP_PIN="+userPIN, "AWS_SECRET_ACCESS_KEY="+hostSecret, "AWS_SESSION_TOKEN="+hostSecret,
		"AWS_ACCESS_KEY_ID=AKIAHOSTENVIRONMENT0")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill() // the plugin follows by its parent-death signal
		_ = cmd.Wait()
		noPluginLeft(t)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for f.ctl.Count("C_Sign") == signs { // the control variables reached the plugin
		if time.Now().After(deadline) {
			t.Fatal("the plugin never reached C_Sign through the fault module: $AWSKEEP_PLUGIN_ENV was not honoured")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pids := pluginProcesses(t)
	if len(pids) != 1 {
		t.Fatalf("plugin processes: %v, want one", pids)
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pids[0]), "environ"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	for _, k := range []string{"AWSKEEP_PIN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
		"AWS_CONFIG_FILE", "XDG_CACHE_HOME", "AWSKEEP_PLUGIN_DIR"} {
		if _, ok := env[k]; ok {
			t.Errorf("the plugin's environment has %s", k)
		}
	}
	if bytes.Contains(data, []byte(hostSecret)) || bytes.Contains(data, []byte(userPIN)) {
		t.Error("the plugin's environment holds a secret")
	}
	for _, k := range []string{"SOFTHSM2_CONF", faultmodule.ControlEnv, faultmodule.LogEnv, "PATH", "HOME"} {
		if env[k] == "" {
			t.Errorf("the plugin's environment lacks %s", k)
		}
	}
}
