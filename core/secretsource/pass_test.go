//go:build unix

package secretsource

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeyringPass stores and reads through pass(1) with a throw-away GnuPG home and
// password store. The gpg-agent that gpg starts for that home is stopped at the end with
// gpgconf --kill, which addresses that home's agent only.
func TestKeyringPass(t *testing.T) {
	needPrograms(t, "apt-get install pass gnupg", "pass", "pass", "gpg", "gpgconf")
	// A short path: gpg-agent's socket goes in it, and Unix socket paths are short.
	gnupg, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(gnupg) })
	if err := os.Chmod(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	// pass runs with this process's environment; GNUPGHOME is how it finds the test key.
	t.Setenv("GNUPGHOME", gnupg)
	run := func(stdin string, name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.WaitDelay = 5 * time.Second
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("gpgconf --kill gpg-agent: %v\n%s", err, out)
		}
	})
	const uid = "awskeep test <awskeep-test@example.invalid>"
	run("", "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, "future-default", "default", "never")
	store := filepath.Join(t.TempDir(), "store")
	t.Setenv("PASSWORD_STORE_DIR", store)
	run("", "pass", "init", "awskeep-test@example.invalid")

	opts := Options{
		Getenv:  envMap(map[string]string{"HOME": "/nonexistent", "PASSWORD_STORE_DIR": store}),
		Profile: "work",
		Keyring: KeyringOptions{AllowedBackends: []string{BackendPass}},
	}
	ctx := t.Context()
	checkStoreReplaces(ctx, t, opts, "keyring:okta: no item \"okta\" in the pass store "+store+" (folder awskeep): store it with awskeep saml store-password --profile work")
	if _, err := os.Stat(filepath.Join(store, "awskeep", "okta.gpg")); err != nil {
		t.Fatalf("pass item: %v", err)
	}

	t.Run("item stored by hand", func(t *testing.T) {
		// A password put there with pass itself is not the JSON the library stores; the
		// decoding error would quote it, and must not be passed on.
		const raw = "{hunter2-typed-by-hand"
		run(raw+"\n", "pass", "insert", "-m", "awskeep/byhand")
		_, err := mustParse(t, "keyring:byhand", opts).Secret(ctx)
		if err == nil || !strings.Contains(err.Error(), "is not in the form awskeep stores: store it again with awskeep saml store-password --profile work") {
			t.Fatalf("Secret() = %v", err)
		}
		if strings.Contains(err.Error(), "hunter2") || bytes.ContainsAny([]byte(err.Error()), "{") {
			t.Fatalf("Secret() error quotes the item: %v", err)
		}
	})
	t.Run("store not initialised", func(t *testing.T) {
		o := opts
		o.Keyring.PassDir = filepath.Join(t.TempDir(), "uninitialised")
		err := Store(ctx, "okta", "pw", o)
		if err == nil || !strings.Contains(err.Error(), "pass insert awskeep/okta failed (exit status 1): is the store initialised (pass init GPG-ID)?") {
			t.Fatalf("Store() = %v", err)
		}
	})
}
