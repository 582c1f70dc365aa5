//go:build cgo

package pkcs11backend

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
)

// SoftHSM reads SOFTHSM2_CONF once per process and does not see tokens created after its
// C_Initialize, so TestMain makes every token the in-process tests use. Tokens that a test
// logs in to with a wrong PIN are its own: the login state is per process and per token.
var (
	hsm *softhsmtest.Env

	mainToken   *softhsmtest.Token // shared by most tests; always the right PIN
	pinToken    *softhsmtest.Token // TestWrongPIN's own
	kitToken    *softhsmtest.Token // the conformance kit's (it tries wrong PINs)
	pluginToken *softhsmtest.Token // used only through plugin subprocesses
	benchToken  *softhsmtest.Token
	twinTokens  [2]*softhsmtest.Token // two tokens with one label
	listToken   *softhsmtest.Token    // TestListKeys's: it counts every key on it

	// testDir holds the SoftHSM configuration and the plugin binary.
	testDir string
)

const (
	testPIN  = "pin-7Q2x-test"
	twinName = "twin"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	testDir, err = os.MkdirTemp("", "pkcs11backend-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testDir)
	hsm, err = softhsmtest.New(testDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkcs11backend tests need SoftHSM2:", err)
		return 1
	}
	if err := hsm.Setenv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, tk := range []struct {
		dst   **softhsmtest.Token
		label string
	}{
		{&mainToken, "main"}, {&pinToken, "pin"}, {&kitToken, "kit"}, {&pluginToken, "plugin"},
		{&benchToken, "bench"}, {&twinTokens[0], twinName}, {&twinTokens[1], twinName}, {&listToken, "list"},
	} {
		*tk.dst, err = hsm.InitToken(tk.label, testPIN, "so-pin-5678")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// pluginBinary builds cmd/awskeep-plugin-pkcs11 once per test binary.
func pluginBinary(tb testing.TB) string {
	tb.Helper()
	pluginOnce.Do(func() {
		pluginPath = filepath.Join(testDir, "awskeep-plugin-pkcs11")
		cmd := exec.Command("go", "build", "-o", pluginPath, pluginPkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			pluginErr = fmt.Errorf("go build awskeep-plugin-pkcs11: %v\n%s", err, out.Bytes())
		}
	})
	if pluginErr != nil {
		tb.Fatal(pluginErr)
	}
	return pluginPath
}

// key returns a Key for object label on tok with the right PIN.
func key(tok *softhsmtest.Token, label string) plugins.Key {
	return plugins.Key{URI: tok.KeyURI(label), PIN: tok.PIN}
}
