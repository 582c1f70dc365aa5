package vaulttest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/awskeep/awskeep/plugin-vault/backend"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/hashicorp/vault/vault"
)

// backends runs f against the backend in process and against the plugin binary over real
// gRPC.
func backends(t *testing.T, f func(t *testing.T, b plugins.Backend)) {
	t.Run("in-process", func(t *testing.T) { f(t, backend.New()) })
	t.Run("plugin", func(t *testing.T) { f(t, conformance.LaunchPlugin(t, pluginBin)) })
}

// mustFail fails the test unless err wraps sentinel, and checks that no secret is in it.
func mustFail(t *testing.T, what string, err, sentinel error, secrets ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: %v, want an error wrapping %q", what, err, sentinel)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("%s: the error text holds a secret: %v", what, err)
		}
	}
	t.Logf("%s: %v", what, err)
}

// TestImportHMACDescribeDelete imports "AWS4"+secret with bring-your-own-key, checks that
// transit's HMAC equals a software HMAC with the same key, that the key is neither
// exportable nor backed up in clear, and deletes it.
func TestImportHMACDescribeDelete(t *testing.T) {
	v := startVault(t)
	backends(t, func(t *testing.T, b plugins.Backend) {
		token := v.Token("awskeep-admin")
		name := newName("lifecycle")
		key := v.keyFor(name, token)
		m, secret := material()
		if err := b.ImportKey(ctx(t), key, m, plugins.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{"20150830", "20261130", ""} {
			got, err := b.HMAC(ctx(t), key, []byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if want := softHMAC(m, []byte(msg)); !bytes.Equal(got, want) {
				t.Fatalf("HMAC(%q) = %x, software HMAC of AWS4+secret = %x", msg, got, want)
			}
		}
		d, err := b.DescribeKey(ctx(t), key)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Exists || d.Algorithm != plugins.AlgorithmHMACSHA256 || d.Extractable || !d.Sensitive || d.Label != name {
			t.Fatalf("DescribeKey = %+v", d)
		}
		for attr, want := range map[string]string{"type": "hmac", "exportable": "false", "allow_plaintext_backup": "false",
			"imported": "true", "latest_version": "1", "mount": "transit"} {
			if d.Attributes[attr] != want {
				t.Errorf("DescribeKey attribute %s = %q, want %q", attr, d.Attributes[attr], want)
			}
		}
		// Vault itself refuses to hand the key out, even to root.
		if _, err := v.client.Logical().Read("transit/export/hmac-key/" + name); err == nil || !strings.Contains(err.Error(), "not exportable") {
			t.Fatalf("transit exported the key (or failed otherwise): %v", err)
		}
		if _, err := v.client.Logical().Read("transit/backup/" + name); err == nil {
			t.Fatal("transit made a plaintext backup of the key")
		}
		// The admin policy may set deletion_allowed on the key's config, but not exportable.
		admin, err := v.client.Clone()
		if err != nil {
			t.Fatal(err)
		}
		admin.SetToken(token)
		if _, err := admin.Logical().Write("transit/keys/"+name+"/config", map[string]any{"exportable": true}); err == nil {
			t.Fatal("the admin policy let a token make the key exportable")
		}
		mustFail(t, "second import", b.ImportKey(ctx(t), key, m, plugins.ImportOptions{}), plugins.ErrKeyExists, token, secret)
		if err := b.DeleteKey(ctx(t), key); err != nil {
			t.Fatal(err)
		}
		if d, err := b.DescribeKey(ctx(t), key); err != nil || d.Exists {
			t.Fatalf("after delete: DescribeKey = %+v, %v", d, err)
		}
		mustFail(t, "second delete", b.DeleteKey(ctx(t), key), plugins.ErrKeyNotFound, token)
	})
}

// TestWrongToken: a token Vault does not know is ErrPINIncorrect, and each failed call
// costs exactly one request: nothing is retried.
func TestWrongToken(t *testing.T) {
	v := startVault(t)
	good := v.Token("awskeep-admin")
	name := newName("wrongtoken")
	m, _ := material()
	if err := backend.New().ImportKey(ctx(t), v.keyFor(name, good), m, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	backends(t, func(t *testing.T, b plugins.Backend) {
		for _, op := range []string{"hmac", "describe", "import", "delete"} {
			wrong := "hvs." + strings.Repeat("x", 20) + op + fmt.Sprint(seq.Add(1))
			key := v.keyFor(name, wrong)
			var err error
			switch op {
			case "hmac":
				_, err = b.HMAC(ctx(t), key, []byte("20150830"))
			case "describe":
				_, err = b.DescribeKey(ctx(t), key)
			case "import":
				err = b.ImportKey(ctx(t), key, m, plugins.ImportOptions{Overwrite: true})
			case "delete":
				err = b.DeleteKey(ctx(t), key)
			}
			mustFail(t, op+" with a wrong token", err, plugins.ErrPINIncorrect, wrong, good)
			if n := v.Requests(wrong); n != 1 {
				t.Fatalf("%s with a wrong token made %d requests to Vault, want exactly 1 (never retried)", op, n)
			}
		}
		// The right token still works, and the key is unchanged.
		got, err := b.HMAC(ctx(t), v.keyFor(name, good), []byte("20150830"))
		if err != nil || !bytes.Equal(got, softHMAC(m, []byte("20150830"))) {
			t.Fatalf("HMAC with the right token after wrong ones: %x, %v", got, err)
		}
	})
}

// TestNoToken: an empty PIN and no $VAULT_TOKEN fail at once, before any request, saying
// how to give a token; $VAULT_TOKEN fills in for an empty PIN.
func TestNoToken(t *testing.T) {
	v := startVault(t)
	token := v.Token("awskeep-admin")
	name := newName("notoken")
	m, _ := material()
	b := backend.New(func(o *backend.Options) { o.Getenv = func(string) string { return "" } })
	err := b.ImportKey(ctx(t), v.keyFor(name, ""), m, plugins.ImportOptions{})
	mustFail(t, "import without a token", err, plugins.ErrPINIncorrect)
	if !strings.Contains(err.Error(), "pin-source") {
		t.Fatalf("the error does not say how to give a token: %v", err)
	}
	if n := v.Requests(""); n != 0 {
		t.Fatalf("%d requests without a token reached Vault", n)
	}
	withEnv := backend.New(func(o *backend.Options) {
		o.Getenv = func(k string) string {
			if k == "VAULT_TOKEN" {
				return token
			}
			return ""
		}
	})
	if err := withEnv.ImportKey(ctx(t), v.keyFor(name, ""), m, plugins.ImportOptions{}); err != nil {
		t.Fatalf("import with $VAULT_TOKEN: %v", err)
	}
}

// TestSealedVault: a sealed Vault, and one that does not answer at all, are
// ErrDeviceUnavailable.
func TestSealedVault(t *testing.T) {
	v := startVault(t)
	token := v.Token("awskeep-admin")
	name := newName("sealed")
	m, _ := material()
	if err := backend.New().ImportKey(ctx(t), v.keyFor(name, token), m, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := vault.TestCoreSeal(v.core); err != nil {
		t.Fatal(err)
	}
	// A port nobody listens on: a Vault that is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	backends(t, func(t *testing.T, b plugins.Backend) {
		before := v.Requests(token)
		_, err := b.HMAC(ctx(t), v.keyFor(name, token), []byte("20150830"))
		mustFail(t, "HMAC on a sealed Vault", err, plugins.ErrDeviceUnavailable, token)
		if !strings.Contains(err.Error(), "sealed") {
			t.Fatalf("the error does not say Vault is sealed: %v", err)
		}
		if n := v.Requests(token) - before; n != 1 {
			t.Fatalf("HMAC on a sealed Vault made %d requests, want 1", n)
		}
		_, err = b.DescribeKey(ctx(t), v.keyFor(name, token))
		mustFail(t, "describe on a sealed Vault", err, plugins.ErrDeviceUnavailable, token)
		_, err = b.HMAC(ctx(t), plugins.Key{URI: "vault:key=" + name + "?addr=" + down, PIN: token}, []byte("20150830"))
		mustFail(t, "HMAC on a Vault that does not answer", err, plugins.ErrDeviceUnavailable, token)
	})
}

// TestMissingKey: HMAC and delete of a key transit does not have are ErrKeyNotFound,
// describe says Exists false; a mount with no engine is an invalid URI.
func TestMissingKey(t *testing.T) {
	v := startVault(t)
	backends(t, func(t *testing.T, b plugins.Backend) {
		token := v.Token("awskeep-admin")
		key := v.keyFor(newName("missing"), token)
		_, err := b.HMAC(ctx(t), key, []byte("20150830"))
		mustFail(t, "HMAC of a missing key", err, plugins.ErrKeyNotFound, token)
		d, err := b.DescribeKey(ctx(t), key)
		if err != nil || d.Exists {
			t.Fatalf("DescribeKey of a missing key = %+v, %v; want Exists false, no error", d, err)
		}
		mustFail(t, "delete of a missing key", b.DeleteKey(ctx(t), key), plugins.ErrKeyNotFound, token)
		// Only the HMAC policy: transit says "encryption key not found" without a read.
		use := v.keyFor(newName("missing"), v.Token("awskeep-use"))
		_, err = b.HMAC(ctx(t), use, []byte("20150830"))
		mustFail(t, "HMAC of a missing key with the use policy", err, plugins.ErrKeyNotFound, use.PIN)
		_, err = b.HMAC(ctx(t), plugins.Key{URI: "vault:key=aws-x?addr=" + v.Addr + "&mount=nothing-here", PIN: v.root}, []byte("x"))
		mustFail(t, "HMAC under a mount with no engine", err, plugins.ErrInvalidKeyURI, v.root)
	})
}

// TestPolicyWithoutHMAC: a token that may manage keys but not use them gets
// ErrPermissionDenied naming the path it lacks; one without config rights cannot delete and
// is told about deletion_allowed.
func TestPolicyWithoutHMAC(t *testing.T) {
	v := startVault(t)
	backends(t, func(t *testing.T, b plugins.Backend) {
		token := v.Token("awskeep-nohmac")
		name := newName("nohmac")
		key := v.keyFor(name, token)
		m, secret := material()
		if err := b.ImportKey(ctx(t), key, m, plugins.ImportOptions{}); err != nil {
			t.Fatalf("import with the no-hmac policy: %v", err)
		}
		_, err := b.HMAC(ctx(t), key, []byte("20150830"))
		mustFail(t, "HMAC without the hmac capability", err, plugins.ErrPermissionDenied, token, secret)
		if !strings.Contains(err.Error(), "transit/hmac/"+name+"/sha2-256") {
			t.Fatalf("the error does not name the path the policy lacks: %v", err)
		}
		if n := v.Requests(token); n != 4 { // import: read key, wrapping key, import; then one HMAC
			t.Fatalf("%d requests, want 4 (read, wrapping_key, import, hmac): a refusal must not be retried", n)
		}
		err = b.DeleteKey(ctx(t), key)
		mustFail(t, "delete without update on keys/NAME/config", err, plugins.ErrPermissionDenied, token)
		if !strings.Contains(err.Error(), "deletion_allowed") {
			t.Fatalf("the error does not explain deletion_allowed: %v", err)
		}
		// The use policy cannot import.
		use := v.keyFor(newName("nohmac"), v.Token("awskeep-use"))
		mustFail(t, "import with the use policy", b.ImportKey(ctx(t), use, m, plugins.ImportOptions{}), plugins.ErrPermissionDenied, use.PIN, secret)
	})
}

// TestAppRole: with auth=approle the PIN is a secret ID; a wrong one is ErrPINIncorrect
// after exactly one login attempt.
func TestAppRole(t *testing.T) {
	v := startVault(t)
	if _, err := v.client.Logical().Write("auth/approle/role/awskeep", map[string]any{
		"token_policies": []string{"awskeep-admin"}, "token_no_default_policy": true, "token_ttl": "1h",
	}); err != nil {
		t.Fatal(err)
	}
	r, err := v.client.Logical().Read("auth/approle/role/awskeep/role-id")
	if err != nil {
		t.Fatal(err)
	}
	roleID := r.Data["role_id"].(string)
	s, err := v.client.Logical().Write("auth/approle/role/awskeep/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	secretID := s.Data["secret_id"].(string)
	backends(t, func(t *testing.T, b plugins.Backend) {
		uri := fmt.Sprintf("vault:key=%s?addr=%s&auth=approle&role-id=%s", newName("approle"), v.Addr, roleID)
		m, _ := material()
		key := plugins.Key{URI: uri, PIN: secretID}
		if err := b.ImportKey(ctx(t), key, m, plugins.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := b.HMAC(ctx(t), key, []byte("20150830"))
		if err != nil || !bytes.Equal(got, softHMAC(m, []byte("20150830"))) {
			t.Fatalf("HMAC via AppRole: %x, %v", got, err)
		}
		// Vault revokes the tokens AppRole handed out: the next call fails once, with the
		// token refused and not retried; the one after logs in again with the secret ID.
		if err := v.client.Sys().RevokePrefix("auth/approle/login"); err != nil {
			t.Fatal(err)
		}
		_, err = b.HMAC(ctx(t), key, []byte("20150830"))
		mustFail(t, "HMAC with a revoked AppRole token", err, plugins.ErrPINIncorrect, secretID)
		got, err = b.HMAC(ctx(t), key, []byte("20150830"))
		if err != nil || !bytes.Equal(got, softHMAC(m, []byte("20150830"))) {
			t.Fatalf("HMAC via AppRole after a revoked token: %x, %v", got, err)
		}
		before := v.Requests("")
		_, err = b.HMAC(ctx(t), plugins.Key{URI: uri, PIN: "00000000-0000-0000-0000-000000000000"}, []byte("20150830"))
		mustFail(t, "HMAC with a wrong secret ID", err, plugins.ErrPINIncorrect, secretID)
		if n := v.Requests("") - before; n != 1 {
			t.Fatalf("a wrong secret ID made %d login requests, want 1", n)
		}
	})
}

var kitSeq atomic.Int64

// TestConformance runs the conformance kit against Vault, in process and over real gRPC.
func TestConformance(t *testing.T) {
	v := startVault(t)
	token := v.Token("awskeep-admin")
	cfg := conformance.Config{
		NewKey: func(*testing.T) plugins.Key {
			return v.keyFor(fmt.Sprintf("aws-kit-%d-%s", kitSeq.Add(1), newName("k")[4:]), token)
		},
		WrongPIN: func(k plugins.Key) plugins.Key {
			k.PIN = "hvs.not-a-token-" + fmt.Sprint(kitSeq.Add(1))
			return k
		},
	}
	t.Run("InProcess", func(t *testing.T) {
		c := cfg
		c.Backend = backend.New()
		conformance.Run(t, c)
	})
	t.Run("OverGRPC", func(t *testing.T) {
		c := cfg
		c.Backend = conformance.LaunchPlugin(t, pluginBin)
		conformance.Run(t, c)
	})
}
