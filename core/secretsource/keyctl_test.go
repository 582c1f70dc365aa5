//go:build linux

package secretsource

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKeyringKeyctl stores and reads through the kernel keyring, in a named keyring of its
// own under the user keyring, unlinked again at the end.
func TestKeyringKeyctl(t *testing.T) {
	service := "awskeep-test-" + rand.Text()[:10]
	t.Cleanup(func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", service, 0); err == nil {
			if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
				t.Errorf("unlink the test keyring %s: %v", service, err)
			}
		}
	})
	opts := Options{
		Getenv:  envMap(nil),
		Profile: "work",
		Keyring: KeyringOptions{AllowedBackends: []string{BackendKeyctl}, ServiceName: service},
	}
	ctx := t.Context()
	_, err := mustParse(t, "keyring:okta", opts).Secret(ctx)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("the kernel keyring is not usable here (a seccomp profile may block keyctl): %v", err)
	}
	want := fmt.Sprintf("keyring:okta: no item \"okta\" in the kernel keyring %q (keyctl, user scope): store it with awskeep saml store-password --profile work", service)
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("Secret() before Store = %v\nwant %s", err, want)
	}
	for _, pw := range []string{"pw-1", "pw-2 replaces it"} {
		if err := Store(ctx, "okta", pw, opts); err != nil {
			t.Fatal(err)
		}
		if got, err := mustParse(t, "keyring:okta", opts).Secret(ctx); err != nil || got != pw {
			t.Fatalf("Secret() = %q, %v; want %q", got, err, pw)
		}
	}
	// The item is a "user" key named okta inside the named keyring.
	ring, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", service, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := unix.KeyctlSearch(ring, "user", "okta", 0)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, key)
	if err != nil || !strings.HasPrefix(desc, "user;") || !strings.HasSuffix(desc, ";okta") {
		t.Fatalf("key description %q, %v", desc, err)
	}
}
