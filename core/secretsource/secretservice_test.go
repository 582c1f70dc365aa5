//go:build linux

package secretsource

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeyringSecretService runs GNOME Keyring on a private D-Bus session bus and the
// secret-service backend against it. awskeep-keyring inherits $DBUS_SESSION_BUS_ADDRESS,
// which is all it needs to find that bus. dbus-daemon and gnome-keyring-daemon are started
// here and killed by pid at the end.
func TestKeyringSecretService(t *testing.T) {
	needPrograms(t, "apt-get install dbus gnome-keyring", "secret-service", "dbus-daemon", "gnome-keyring-daemon", "dbus-send")
	dir, err := os.MkdirTemp("", "ss") // short: it holds the bus socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"run", "data", "config"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}

	// A bus configuration without service directories: nothing is activated behind our back,
	// so the only keyring daemon is the one started below.
	conf := filepath.Join(dir, "bus.conf")
	busConf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + filepath.Join(dir, "bus") + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	if err := os.WriteFile(conf, []byte(busConf), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := startDaemon(t, nil, "", "dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	addr, err := bufio.NewReader(bus.stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	env := []string{
		"DBUS_SESSION_BUS_ADDRESS=" + addr,
		"HOME=" + dir,
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"PATH=" + os.Getenv("PATH"),
	}
	// --unlock reads the login keyring's password from stdin and creates the keyring.
	startDaemon(t, env, "login-keyring-password", "gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	waitForName(t, env, "org.freedesktop.secrets")

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	secretServiceChecks(ctx, t)
}

// secretServiceChecks run against the private bus.
func secretServiceChecks(ctx context.Context, t *testing.T) {
	opts := Options{
		Getenv:  envMap(nil),
		Profile: "work",
		Keyring: KeyringOptions{AllowedBackends: []string{BackendSecretService}},
	}
	checkStoreReplaces(ctx, t, opts, `keyring:okta: no item "okta" in the Secret Service collection "login": store it with awskeep saml store-password --profile work`)
	// A second service name keeps its own items in the shared collection.
	other := opts
	other.Keyring.ServiceName = "other"
	if _, err := mustParse(t, "keyring:okta", other).Secret(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Secret() under another service name = %v", err)
	}

	// A collection that does not exist needs a GUI prompt to be created; headless, the
	// store fails (or, had the prompt hung, would end with the context) instead of hanging.
	newColl := opts
	newColl.Keyring.SecretServiceCollection = "awskeep-test"
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := Store(sctx, "okta", "pw-secret-never-shown", newColl)
	if err == nil {
		t.Fatal("Store() into a new collection without a prompter succeeded")
	}
	if strings.Contains(err.Error(), "pw-secret-never-shown") {
		t.Fatalf("Store() error shows the secret: %v", err)
	}
	t.Logf("Store() into a new collection, headless: %v", err)

	// Without a session bus the backend is unavailable, and the helper does not start one
	// (unless this machine has a per-user bus, which the helper would find).
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		return
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	_, err = mustParse(t, "keyring:okta", opts).Secret(ctx)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "secret-service: no D-Bus session bus") {
		t.Fatalf("Secret() without a bus = %v", err)
	}
}

// daemon is a process a test started.
type daemon struct {
	cmd    *exec.Cmd
	stdout *os.File
}

// startDaemon starts name with args (env nil: this process's) and kills it by pid when the
// test ends.
func startDaemon(t *testing.T, env []string, stdin, name string, args ...string) *daemon {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		r.Close()
	})
	return &daemon{cmd: cmd, stdout: r}
}

// waitForName waits until a client owns name on the bus.
func waitForName(t *testing.T, env []string, name string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		cmd := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:"+name)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "boolean true") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear on the bus: %v\n%s", name, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
