package devicekey_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Two builds of the example plugin, real subprocesses: pinDir holds it as it is (it
// declares plugins.CapabilityPIN, like the PKCS#11, TPM, YubiHSM and Vault plugins),
// noPINDir holds testdata/nopinplugin, the same backend without the capability (like the
// Tink plugin).
var pinDir, noPINDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "devicekey-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pinDir, noPINDir = filepath.Join(tmp, "pin"), filepath.Join(tmp, "nopin")
	for _, b := range []struct{ dir, pkg string }{
		{pinDir, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example"},
		{noPINDir, "./testdata/nopinplugin"},
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(b.dir, "awskeep-plugin-example"), b.pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
			os.RemoveAll(tmp)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// hostPIN is in the environment of every test: a PIN-less plugin must never receive it.
const hostPIN = "4913-host-pin-for-another-device"

// countingPrompter answers every question with answer, and counts the questions.
type countingPrompter struct {
	asked  atomic.Int32
	answer string
}

func (p *countingPrompter) Secret(context.Context, string) (string, error) {
	p.asked.Add(1)
	return p.answer, nil
}
func (p *countingPrompter) Line(ctx context.Context, q string) (string, error) {
	return p.Secret(ctx, q)
}
func (p *countingPrompter) Choose(context.Context, string, []string) (int, error) {
	p.asked.Add(1)
	return 0, nil
}

func options(dir string, env map[string]string, p prompt.Prompter, noPrompt bool) devicekey.OpenOptions {
	getenv := func(k string) string { return env[k] }
	return devicekey.OpenOptions{Host: pluginhost.Options{Dir: dir, Getenv: getenv}, Getenv: getenv, Prompter: p, NoPrompt: noPrompt}
}

func parse(t *testing.T, s string) *keyuri.URI {
	t.Helper()
	u, err := keyuri.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOpenWithoutPINCapability: for a plugin that does not declare plugins.CapabilityPIN
// the host resolves no PIN: no prompt, $AWSKEEP_PIN not sent, no pin-value= needed; a PIN the
// URI names explicitly is still sent. The key works (import, HMAC) through the real plugin.
func TestOpenWithoutPINCapability(t *testing.T) {
	env := map[string]string{"AWSKEEP_PIN": hostPIN}
	for _, tt := range []struct {
		name, uri, wantPIN string
		noPrompt           bool
	}{
		{"no pin attribute, terminal", "example:name=plain", "", false},
		{"no pin attribute, no terminal", "example:name=plain", "", true},
		{"empty pin-value", "example:name=plain?pin-value=", "", false},
		{"explicit pin-value", "example:name=explicit?pin-value=2580", "2580", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &countingPrompter{answer: "typed-pin"}
			d, err := devicekey.Open(context.Background(), parse(t, tt.uri), options(noPINDir, env, p, tt.noPrompt))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if slices.Contains(d.Info.Capabilities, plugins.CapabilityPIN) {
				t.Fatalf("test plugin declares %v", d.Info.Capabilities)
			}
			if n := p.asked.Load(); n != 0 {
				t.Errorf("asked %d questions for a plugin without PINs", n)
			}
			if d.Key.PIN != tt.wantPIN {
				t.Errorf("PIN sent: %d bytes, want %q", len(d.Key.PIN), tt.wantPIN)
			}
			ctx := context.Background()
			if err := d.Backend.ImportKey(ctx, d.Key, devicekey.Material("secret"), plugins.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := devicekey.Deriver(d.Backend, d.Key).DeriveDateKey(ctx, "20261130"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenWithPINCapability: a plugin that declares plugins.CapabilityPIN gets its PIN as
// before: from $AWSKEEP_PIN, from a prompt, and with no source and no terminal the open
// fails at once with the settings that would answer, leaving no plugin running.
func TestOpenWithPINCapability(t *testing.T) {
	uri := parse(t, "example:name=guarded")
	t.Run("from $AWSKEEP_PIN", func(t *testing.T) {
		p := &countingPrompter{}
		d, err := devicekey.Open(context.Background(), uri, options(pinDir, map[string]string{"AWSKEEP_PIN": hostPIN}, p, false))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Key.PIN != hostPIN || p.asked.Load() != 0 {
			t.Fatalf("PIN %d bytes, %d questions; want $AWSKEEP_PIN and none", len(d.Key.PIN), p.asked.Load())
		}
	})
	t.Run("prompt", func(t *testing.T) {
		p := &countingPrompter{answer: "1357"}
		d, err := devicekey.Open(context.Background(), uri, options(pinDir, nil, p, false))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Key.PIN != "1357" || p.asked.Load() != 1 {
			t.Fatalf("PIN %d bytes after %d questions; want the typed one after one", len(d.Key.PIN), p.asked.Load())
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		before := children(t)
		start := time.Now()
		_, err := devicekey.Open(context.Background(), uri, options(pinDir, nil, prompt.TTY{}, true))
		if !errors.Is(err, prompt.ErrNoTerminal) || creds.ClassOf(err) != creds.ClassPrompt {
			t.Fatalf("err = %v (class %v), want ErrNoTerminal of class prompt", err, creds.ClassOf(err))
		}
		for _, want := range []string{"pin-source", "AWSKEEP_PIN"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("failing without a terminal took %v", d)
		}
		if after := children(t); after > before {
			t.Errorf("%d child processes after the failed open, %d before: the plugin was left running", after, before)
		}
	})
}

// TestPooledResolvesPINOnlyForPINPlugins: the long-lived path (a pluginhost.Pool behind a
// devicekey.Pooled, as serve, proxy and the Go API use) asks the scheme's plugin.
func TestPooledResolvesPINOnlyForPINPlugins(t *testing.T) {
	env := map[string]string{"AWSKEEP_PIN": hostPIN}
	for _, tt := range []struct {
		dir, wantPIN string
	}{{noPINDir, ""}, {pinDir, hostPIN}} {
		opts := options(tt.dir, env, &countingPrompter{answer: "typed"}, false)
		pool := pluginhost.NewPool(nil, opts.Host)
		k := &devicekey.Pooled{Backend: pool, URI: parse(t, "example:name=pooled"), Open: opts}
		key, err := k.Key(context.Background())
		pool.Close()
		if err != nil {
			t.Fatal(err)
		}
		if key.PIN != tt.wantPIN {
			t.Errorf("%s: PIN %d bytes, want %q", filepath.Base(tt.dir), len(key.PIN), tt.wantPIN)
		}
		if n := opts.Prompter.(*countingPrompter).asked.Load(); n != 0 {
			t.Errorf("%s: %d questions", filepath.Base(tt.dir), n)
		}
	}
}

// TestPluginDepth: a host started by a plugin may not open a key, and says why without
// starting anything.
func TestPluginDepth(t *testing.T) {
	uri := parse(t, "example:name=nested")
	for _, tt := range []struct {
		depth string
		ok    bool
	}{{"", true}, {"0", true}, {"1", false}, {"2", false}, {"garbage", false}} {
		env := map[string]string{plugins.DepthEnvVar: tt.depth}
		before := children(t)
		d, err := devicekey.Open(context.Background(), uri, options(noPINDir, env, &countingPrompter{}, true))
		if tt.ok {
			if err != nil {
				t.Errorf("depth %q: %v", tt.depth, err)
				continue
			}
			d.Close()
			continue
		}
		if !errors.Is(err, devicekey.ErrNestedTooDeep) || creds.ClassOf(err) != creds.ClassConfig ||
			!strings.Contains(err.Error(), "profile=") || strings.Contains(err.Error(), "\n") {
			t.Errorf("depth %q: err = %v, want ErrNestedTooDeep naming profile=, one line", tt.depth, err)
		}
		if after := children(t); after > before {
			t.Errorf("depth %q: a plugin was started", tt.depth)
		}
		pool := pluginhost.NewPool(nil, pluginhost.Options{Dir: noPINDir})
		_, err = (&devicekey.Pooled{Backend: pool, URI: uri, Open: options(noPINDir, env, nil, true)}).Key(context.Background())
		pool.Close()
		if !errors.Is(err, devicekey.ErrNestedTooDeep) {
			t.Errorf("depth %q, pooled: err = %v", tt.depth, err)
		}
	}
}

// children counts this process's child processes (/proc/self/task/*/children).
func children(t *testing.T) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		n += len(strings.Fields(string(data)))
	}
	return n
}
