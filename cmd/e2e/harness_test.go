// Package e2e drives the built awskeep binaries as a user would: real plugin subprocesses,
// real SoftHSM2 tokens, moto as a SigV4-verifying STS and S3, and the AWS CLIs as clients.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/buildtest"
	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
)

// Built binaries: the host alone in binDir, plugins in pluginDir, so that a test can give
// the host an empty plugin directory.
var (
	binDir    string
	pluginDir string
	awskeep   string
	world     *motoWorld
)

// motoWorld is one moto for the package: a user allowed everything, a user allowed
// nothing, a role both may assume, and an S3 object.
type motoWorld struct {
	server  *mototest.Server
	alice   mototest.User
	mallory mototest.User
	roleARN string
}

const (
	bucket = "awskeep-demo"
	object = "hello.txt"
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	if err := softhsmtest.Check(); err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", "awskeep-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	binDir, pluginDir = filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins")
	awskeep = filepath.Join(binDir, "awskeep")
	host := []string{
		"github.com/awskeep/awskeep/cmd/awskeep", // the front
		"github.com/awskeep/awskeep/cmd/awskeep-full",
		"github.com/awskeep/awskeep/core/cmd/awskeep-keyring", // next to awskeep, as installed
	}
	if err := buildtest.Build(".", binDir, host); err != nil { // the host is pure Go but for the C front on linux
		return 1, err
	}
	plugins := []string{
		"github.com/awskeep/awskeep/plugin-softhsm/cmd/awskeep-plugin-pkcs11",
		"github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example",
		"github.com/awskeep/awskeep/plugin-tpm/cmd/awskeep-plugin-tpm",
	}
	if err := buildtest.Build(".", pluginDir, plugins, func(o *buildtest.Options) { o.Cgo = true }); err != nil {
		return 1, err
	}
	ctx := context.Background()
	moto, err := mototest.StartServer(ctx, tmp)
	if err != nil {
		return 1, err
	}
	defer moto.Stop()
	world = &motoWorld{server: moto}
	if world.alice, err = moto.CreateUser(ctx, "alice", true); err != nil {
		return 1, err
	}
	if world.mallory, err = moto.CreateUser(ctx, "mallory", false); err != nil {
		return 1, err
	}
	if world.roleARN, err = moto.CreateRole(ctx, "deployer", world.alice.ARN, world.mallory.ARN); err != nil {
		return 1, err
	}
	if err := moto.PutObject(ctx, bucket, object, "hello from moto"); err != nil {
		return 1, err
	}
	if err := moto.EnableAuth(ctx); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// user is one person's machine: a home, a SoftHSM2 token, and the environment awskeep
// runs in.
type user struct {
	t       *testing.T
	home    string
	softhsm *softhsmtest.Env
	token   *softhsmtest.Token
	pinFile string
	// secrets must appear in no output: the AWS secret and the PIN.
	secrets []string
	// tokens are temporary credentials: expected on credential-process's stdout, never on
	// stderr.
	tokens []string
}

const userPIN = "4913-e2e-pin"

func newUser(t *testing.T) *user {
	t.Helper()
	u := &user{t: t, home: t.TempDir(), softhsm: softhsmtest.TempEnv(t)}
	u.token = u.softhsm.NewToken(t, "aws", userPIN)
	u.pinFile = filepath.Join(u.home, "pin")
	if err := os.WriteFile(u.pinFile, []byte(userPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.secrets = []string{userPIN, world.alice.SecretAccessKey, world.mallory.SecretAccessKey}
	return u
}

// keyURI is the URI of object on the user's token with the PIN in a pin-source file.
func (u *user) keyURI(object string) string {
	return u.token.KeyURI(object) + "&pin-source=file:" + u.pinFile
}

// environ is a clean environment: the user's home, caches and plugin directory, SoftHSM's
// configuration, and nothing of the test process's AWS settings.
func (u *user) environ(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + u.home,
		"XDG_CACHE_HOME=" + filepath.Join(u.home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(u.home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(u.home, ".local", "share"),
		"AWSKEEP_PLUGIN_DIR=" + pluginDir,
		"AWS_CONFIG_FILE=" + filepath.Join(u.home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(u.home, "aws-credentials"),
	}
	env = append(env, u.softhsm.Environ()...)
	return append(env, extra...)
}

// result is what a command printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the awskeep binary; stdin may be empty.
func (u *user) run(stdin string, extraEnv []string, args ...string) result {
	u.t.Helper()
	return u.exec(awskeep, stdin, extraEnv, args...)
}

func (u *user) exec(bin, stdin string, extraEnv []string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = u.environ(extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		u.t.Fatalf("run %s: %v", bin, err)
	}
	what := filepath.Base(bin) + " " + strings.Join(args, " ")
	u.checkNoSecrets(r.stdout+r.stderr, u.secrets, what)
	u.checkNoSecrets(r.stderr, u.tokens, what)
	return r
}

// checkNoSecrets fails the test if out holds one of secrets.
func (u *user) checkNoSecrets(out string, secrets []string, what string) {
	u.t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			u.t.Fatalf("output of %s contains a secret", what)
		}
	}
}

// mustSucceed fails the test unless r succeeded.
func mustSucceed(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s failed with %d:\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
}

// mustFailClearly checks the error contract: exit 1, nothing on stdout, exactly one line on
// stderr that starts with "awskeep: " and says each of wants.
func mustFailClearly(t *testing.T, r result, wants ...string) {
	t.Helper()
	mustFailWith(t, r, 1, wants...)
}

// mustFailUsage is mustFailClearly for a bad command line, which exits 2.
func mustFailUsage(t *testing.T, r result, wants ...string) {
	t.Helper()
	mustFailWith(t, r, 2, wants...)
}

func mustFailWith(t *testing.T, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("stdout is not empty on failure: %q", r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "awskeep: ") {
		t.Fatalf("stderr is not one awskeep: line:\n%s", r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	// Said once is enough: a hint repeated by each layer reads like a stutter.
	if strings.Count(r.stderr, "not retried") > 1 {
		t.Fatalf("stderr says \"not retried\" more than once:\n%s", r.stderr)
	}
}

// importKey imports secret into object on the user's token.
func (u *user) importKey(object, secret string) {
	u.t.Helper()
	r := u.run(secret+"\n", nil, "import", "--key", u.keyURI(object))
	mustSucceed(u.t, r, "import")
}

type credprocOutput = creds.Credentials

func parseCredentials(s string) (creds.Credentials, error) { return credproc.Parse([]byte(s)) }

// notInFiles fails the test for every file under dir, except the one named except, that
// holds needle; what names the needle in the message.
func notInFiles(t *testing.T, dir, needle, except, what string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == except {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("%s holds %s", path, what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
