// Package softhsmtest creates SoftHSM2 tokens in temporary directories, for tests of the
// PKCS#11 backend and of anything that drives awskeep-plugin-pkcs11 end to end.
//
// SoftHSM2 reads its configuration file (named by SOFTHSM2_CONF) once, in C_Initialize, and
// does not notice tokens created later by another process. So:
//
//   - A test binary that loads SoftHSM in process (the backend's own tests) creates one Env
//     in TestMain, points SOFTHSM2_CONF at it with Env.Setenv, and creates every token it
//     needs there before the first test touches the module.
//   - A test that starts plugin subprocesses can create an Env and tokens per test (TempEnv,
//     NewToken) and give each subprocess Env.Environ().
//
// Tokens are made with softhsm2-util (Debian package softhsm2); a missing tool fails the
// test with the command that installs it.
package softhsmtest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

// ModulePath is SoftHSM2's PKCS#11 module as Debian installs it.
const ModulePath = "/usr/lib/softhsm/libsofthsm2.so"

// InstallHint is the command that installs what this package needs.
const InstallHint = "apt-get install softhsm2"

// ConfEnv is the environment variable SoftHSM2 reads its configuration file name from.
const ConfEnv = "SOFTHSM2_CONF"

// Check reports whether softhsm2-util and the SoftHSM2 module are installed; the error
// names the install command.
func Check() error {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return fmt.Errorf("softhsmtest: softhsm2-util not found; %s", InstallHint)
	}
	if _, err := os.Stat(ModulePath); err != nil {
		return fmt.Errorf("softhsmtest: %s not found; %s", ModulePath, InstallHint)
	}
	return nil
}

// Env is a SoftHSM2 configuration with a token directory of its own.
type Env struct {
	// ConfPath is the softhsm2.conf; SOFTHSM2_CONF must name it.
	ConfPath string
	// TokenDir holds the tokens (directories.tokendir).
	TokenDir string
}

// New writes a softhsm2.conf and an empty token directory under dir.
func New(dir string) (*Env, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	e := &Env{ConfPath: filepath.Join(dir, "softhsm2.conf"), TokenDir: filepath.Join(dir, "tokens")}
	if err := os.MkdirAll(e.TokenDir, 0o700); err != nil {
		return nil, fmt.Errorf("softhsmtest: %w", err)
	}
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", e.TokenDir)
	if err := os.WriteFile(e.ConfPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("softhsmtest: %w", err)
	}
	return e, nil
}

// TempEnv is New in tb.TempDir(); it fails tb on error.
func TempEnv(tb testing.TB) *Env {
	tb.Helper()
	e, err := New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// Environ returns the environment entries a subprocess needs to see this Env's tokens.
// Append them to os.Environ() (later entries win).
func (e *Env) Environ() []string { return []string{ConfEnv + "=" + e.ConfPath} }

// Setenv points this process's SOFTHSM2_CONF at the Env. Call it before anything loads the
// SoftHSM module: the module reads the variable once.
func (e *Env) Setenv() error { return os.Setenv(ConfEnv, e.ConfPath) }

// Token is a token created by InitToken.
type Token struct {
	// Label is CK_TOKEN_INFO.label, the URI's token= attribute.
	Label string
	// Serial is CK_TOKEN_INFO.serialNumber, the URI's serial= attribute.
	Serial string
	// Slot is the slot ID SoftHSM assigned, the URI's slot-id= attribute.
	Slot uint
	// PIN and SOPIN are the user and security officer PINs.
	PIN, SOPIN string
}

// KeyURI returns a pkcs11: URI for the key with CKA_LABEL object on t, with module-path
// set and no PIN in it (the host passes PINs separately), e.g.
// pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so.
func (t *Token) KeyURI(object string) string {
	return t.URI(keyuri.Attr{Name: "object", Value: object})
}

// URI returns a pkcs11: URI with token=t.Label, then the given path attributes (e.g.
// object, id, serial), and module-path.
func (t *Token) URI(path ...keyuri.Attr) string {
	u := keyuri.URI{
		Scheme: "pkcs11",
		Path:   append([]keyuri.Attr{{Name: "token", Value: t.Label}}, path...),
		Query:  []keyuri.Attr{{Name: "module-path", Value: ModulePath}},
	}
	return u.String()
}

var slotRE = regexp.MustCompile(`reassigned to slot (\d+)`)

// InitToken creates a token in the first free slot (softhsm2-util --init-token --free).
// Labels need not be unique; SoftHSM tells tokens apart by serial.
func (e *Env) InitToken(label, pin, soPIN string) (*Token, error) {
	out, err := e.util("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPIN)
	if err != nil {
		return nil, fmt.Errorf("softhsmtest: init token %q: %w", label, err)
	}
	m := slotRE.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("softhsmtest: init token %q: no slot in softhsm2-util output %q", label, out)
	}
	slot, _ := strconv.ParseUint(string(m[1]), 10, 0)
	serial, err := e.serial(uint(slot))
	if err != nil {
		return nil, err
	}
	return &Token{Label: label, Serial: serial, Slot: uint(slot), PIN: pin, SOPIN: soPIN}, nil
}

// NewToken creates a token with user PIN pin and a random SO PIN; it fails tb on error.
func (e *Env) NewToken(tb testing.TB, label, pin string) *Token {
	tb.Helper()
	t, err := e.InitToken(label, pin, "so-"+rand.Text()[:12])
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// serial reads the serial number of the token in slot from softhsm2-util --show-slots.
func (e *Env) serial(slot uint) (string, error) {
	out, err := e.util("--show-slots")
	if err != nil {
		return "", fmt.Errorf("softhsmtest: show slots: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	in := false
	for sc.Scan() {
		// "Slot N" starts a slot's block; the lines inside it are indented.
		if rest, ok := strings.CutPrefix(sc.Text(), "Slot "); ok {
			in = strings.TrimSpace(rest) == strconv.FormatUint(uint64(slot), 10)
			continue
		}
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "Serial number:"); ok && in {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("softhsmtest: no serial number for slot %d in softhsm2-util --show-slots", slot)
}

func (e *Env) util(args ...string) ([]byte, error) {
	cmd := exec.Command("softhsm2-util", args...)
	cmd.Env = append(os.Environ(), e.Environ()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("softhsm2-util %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("softhsm2-util: %w; %s", err, InstallHint)
	}
	return out, nil
}
