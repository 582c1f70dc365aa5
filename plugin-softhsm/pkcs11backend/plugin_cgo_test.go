//go:build cgo

package pkcs11backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

const pluginPkg = "github.com/awskeep/awskeep/plugin-softhsm/cmd/awskeep-plugin-pkcs11"

var kitKeys atomic.Int64

// kitConfig is the conformance kit's configuration for backend b on kitToken; prefix keeps
// the in-process and plugin runs' key names apart.
func kitConfig(b plugins.Backend, prefix string) conformance.Config {
	return conformance.Config{
		Backend: b,
		NewKey: func(t *testing.T) plugins.Key {
			return key(kitToken, fmt.Sprintf("%s-%d", prefix, kitKeys.Add(1)))
		},
		WrongPIN: func(k plugins.Key) plugins.Key {
			k.PIN = "wrong-" + k.PIN
			return k
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("InProcess", func(t *testing.T) {
		conformance.Run(t, kitConfig(New(), "inproc"))
	})
	t.Run("Plugin", func(t *testing.T) {
		bin := conformance.BuildPlugin(t, pluginPkg)
		conformance.Run(t, kitConfig(conformance.LaunchPlugin(t, bin, hsm.Environ()...), "plugin"))
	})
}

// launch starts the plugin binary; the caller closes it.
func launch(tb testing.TB) *plugins.Plugin {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugins.Launch(ctx, pluginBinary(tb), func(o *plugins.LaunchOptions) { o.Env = hsm.Environ() })
	if err != nil {
		tb.Fatalf("launch plugin: %v", err)
	}
	return p
}

// TestPluginWrongPIN needs fresh processes: the login state is per process. The first
// plugin imports a key; a second, never logged in, gets a wrong PIN, which the token itself
// refuses (CKR_PIN_INCORRECT), and then the right PIN, which works.
func TestPluginWrongPIN(t *testing.T) {
	ctx := context.Background()
	k := key(pluginToken, "wrong-pin")
	mat := material(exampleSecret)

	first := launch(t)
	if err := first.ImportKey(ctx, k, mat, plugins.ImportOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := launch(t)
	defer second.Close()
	defer second.DeleteKey(ctx, k)
	_, err := second.HMAC(ctx, plugins.Key{URI: k.URI, PIN: "wrong-pin-9999"}, []byte("20150830"))
	if !errors.Is(err, plugins.ErrPINIncorrect) || !strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
		t.Fatalf("wrong PIN: %v, want ErrPINIncorrect with CKR_PIN_INCORRECT", err)
	}
	if strings.Contains(err.Error(), "wrong-pin-9999") || strings.Contains(err.Error(), testPIN) {
		t.Errorf("error text %q contains a PIN", err)
	}
	got, err := second.HMAC(ctx, k, []byte("20150830"))
	if err != nil {
		t.Fatalf("right PIN after a wrong one: %v", err)
	}
	if !bytes.Equal(got, wantHMAC(mat, []byte("20150830"))) {
		t.Error("HMAC over the plugin does not match crypto/hmac")
	}
}

// TestPluginErrors checks that the backend's errors keep their sentinel and text across the
// process boundary.
func TestPluginErrors(t *testing.T) {
	p := launch(t)
	defer p.Close()
	ctx := context.Background()
	mod := "?module-path=" + softhsmtest.ModulePath
	tests := []struct {
		name    string
		uri     string
		wantErr error
		wantMsg string
	}{
		{"key not found", "pkcs11:token=plugin;object=none" + mod, plugins.ErrKeyNotFound, `no key object "none" on token "plugin"`},
		{"token not found", "pkcs11:token=nosuch;object=k" + mod, plugins.ErrDeviceUnavailable, `no token with label "nosuch"`},
		{"ambiguous token", "pkcs11:token=twin;object=k" + mod, plugins.ErrAmbiguousKey, "add serial="},
		{"not a module", "pkcs11:token=plugin;object=k?module-path=/lib/x86_64-linux-gnu/libc.so.6", plugins.ErrDeviceUnavailable, "is not a PKCS#11 module"},
		{"no key name", "pkcs11:token=plugin" + mod, plugins.ErrInvalidKeyURI, "object="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.HMAC(ctx, plugins.Key{URI: tt.uri, PIN: testPIN}, []byte("x"))
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("HMAC: %v\nwant %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
	if p.Exited() {
		t.Errorf("the plugin exited: %s", p.ExitReason())
	}
}

// TestPluginSoftHSMNotConfigured: SoftHSM without a readable configuration fails
// C_Initialize; the plugin must say what to check and survive. It needs its own process,
// as SOFTHSM2_CONF is read once.
func TestPluginSoftHSMNotConfigured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	missing := softhsmtest.ConfEnv + "=" + t.TempDir() + "/missing.conf"
	// Also in this process's environment: go-plugin v1.8.0 appends the host's environment
	// after LaunchOptions.Env, so the host's SOFTHSM2_CONF would win. This process's
	// SoftHSM read the variable at its C_Initialize already and does not look again.
	name, value, _ := strings.Cut(missing, "=")
	t.Setenv(name, value)
	p, err := plugins.Launch(ctx, pluginBinary(t), func(o *plugins.LaunchOptions) { o.Env = []string{missing} })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 { // not remembered: the second request tries again and says the same
		_, err = p.HMAC(ctx, key(pluginToken, "k"), []byte("x"))
		if !errors.Is(err, plugins.ErrDeviceUnavailable) || !strings.Contains(err.Error(), "SOFTHSM2_CONF") {
			t.Errorf("HMAC: %v, want ErrDeviceUnavailable naming SOFTHSM2_CONF", err)
		}
	}
	if p.Exited() {
		t.Errorf("the plugin exited: %s", p.ExitReason())
	}
}
