package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyPlugins copies the built plugins into a directory of the test's own, so it can
// change them.
func copyPlugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"awskeep-plugin-pkcs11", "awskeep-plugin-example"} {
		src, err := os.Open(filepath.Join(pluginDir, name))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPluginsListAndPin(t *testing.T) {
	u := newUser(t)
	dir := copyPlugins(t)
	env := []string{"AWSKEEP_PLUGIN_DIR=" + dir}
	u.importKey("prod", world.alice.SecretAccessKey)

	list := u.run("", env, "plugins", "list")
	mustSucceed(t, list, "plugins list")
	for _, want := range []string{"NAME", "SHA256", "pkcs11", "example", filepath.Join(dir, "awskeep-plugin-pkcs11")} {
		if !strings.Contains(list.stdout, want) {
			t.Fatalf("plugins list lacks %q:\n%s", want, list.stdout)
		}
	}

	pin := u.run("", env, "plugins", "pin")
	mustSucceed(t, pin, "plugins pin")
	pinFile := filepath.Join(u.home, ".config", "awskeep", "plugins.sha256")
	if fi, err := os.Stat(pinFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pin file: %v", err)
	}
	describe := []string{"keys", "describe", "--key", u.keyURI("prod")}
	mustSucceed(t, u.run("", env, describe...), "describe with pinned plugins")

	// The plugin changes behind the pin: it must not start, and the message says how to re-pin.
	f, err := os.OpenFile(filepath.Join(dir, "awskeep-plugin-pkcs11"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	mustFailClearly(t, u.run("", env, describe...), "no longer matches its pinned sha256", "awskeep plugins pin")

	mustSucceed(t, u.run("", env, "plugins", "pin"), "re-pin")
	mustSucceed(t, u.run("", env, describe...), "describe after re-pinning")

	t.Run("a plugin writable by others is refused", func(t *testing.T) {
		path := filepath.Join(dir, "awskeep-plugin-pkcs11")
		if err := os.Chmod(path, 0o777); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(path, 0o755)
		mustFailClearly(t, u.run("", env, describe...), "writable by group or others", "chmod go-w")
	})
}

func TestPluginLogsReachTheHostLogAtDebug(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	r := u.run("", []string{"AWSKEEP_LOG_LEVEL=debug"}, "keys", "describe", "--key", u.keyURI("prod"))
	mustSucceed(t, r, "keys describe with debug logging")
	if !strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stderr, "plugin=pkcs11") {
		t.Fatalf("no plugin log lines at debug level on stderr:\n%s", r.stderr)
	}
	quiet := u.run("", nil, "keys", "describe", "--key", u.keyURI("prod"))
	if quiet.stderr != "" {
		t.Fatalf("stderr is not empty at the default level:\n%s", quiet.stderr)
	}
}
