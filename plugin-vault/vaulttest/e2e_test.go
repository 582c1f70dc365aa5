package vaulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
)

// awsCLIv1 returns the AWS CLI v1 of the pyenv, the CLI that honours endpoint_url and
// AWS_ENDPOINT_URL; the test never skips without it.
func awsCLIv1(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(os.Getenv("HOME"), ".pyenv")
	}
	v1, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "aws"))
	if len(v1) == 0 {
		t.Fatal("AWS CLI v1 not found in the pyenv: pip install awscli")
	}
	return v1[0]
}

// e2eUser is one machine: a home with the awskeep binaries' plugin directory, token files
// and an AWS config, and the secrets that must never show.
type e2eUser struct {
	t       *testing.T
	home    string
	bin     string // the awskeep front, next to awskeep-full
	plugins string
	secrets []string
}

func (u *e2eUser) environ() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + u.home,
		"XDG_CACHE_HOME=" + filepath.Join(u.home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(u.home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(u.home, ".local", "share"),
		"AWSKEEP_PLUGIN_DIR=" + u.plugins,
		"AWS_CONFIG_FILE=" + filepath.Join(u.home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(u.home, "aws-credentials"),
	}
}

// run runs bin with stdin and checks that no secret is in what it printed.
func (u *e2eUser) run(bin, stdin string, args ...string) (stdout, stderr string, code int) {
	u.t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, bin, args...)
	cmd.Env = u.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("run %s: %v", bin, err)
	}
	for _, s := range u.secrets {
		if strings.Contains(out.String()+errb.String(), s) {
			u.t.Fatalf("output of %s %s holds a secret", filepath.Base(bin), args)
		}
	}
	return out.String(), errb.String(), code
}

func (u *e2eUser) mustRun(bin, stdin string, args ...string) string {
	u.t.Helper()
	out, errOut, code := u.run(bin, stdin, args...)
	if code != 0 {
		u.t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// buildHost builds the host as it is installed, the front and the full program side by
// side, into home/bin, and the Vault plugin into home/plugins; it returns the two.
func buildHost(t *testing.T, home string) (binDir, pluginDir string) {
	t.Helper()
	binDir, pluginDir = filepath.Join(home, "bin"), filepath.Join(home, "plugins")
	for _, d := range []string{binDir, pluginDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := goBuild(filepath.Join(repoRoot, "cmd"), binDir, "./awskeep", "./awskeep-full"); err != nil {
		t.Fatal(err)
	}
	if err := goBuild(filepath.Join(repoRoot, "plugin-vault"), pluginDir, "./cmd/awskeep-plugin-vault"); err != nil {
		t.Fatal(err)
	}
	return binDir, pluginDir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCredentialProcessAWSCLI is the whole job on Vault: awskeep import puts an IAM user's
// secret into transit (admin token), and the AWS CLI v1 gets role credentials through
// awskeep credential-process, whose token may only compute HMACs, from moto, which checks
// every SigV4 signature.
func TestCredentialProcessAWSCLI(t *testing.T) {
	cli := awsCLIv1(t)
	v := startVault(t)
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	moto, err := mototest.StartServer(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	alice, err := moto.CreateUser(c, "alice", true)
	if err != nil {
		t.Fatal(err)
	}
	roleARN, err := moto.CreateRole(c, "deployer", alice.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if err := moto.EnableAuth(c); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	binDir, pluginDir := buildHost(t, home)
	adminToken, useToken := v.Token("awskeep-admin"), v.Token("awskeep-use")
	u := &e2eUser{t: t, home: home, bin: filepath.Join(binDir, "awskeep"), plugins: pluginDir,
		secrets: []string{alice.SecretAccessKey, adminToken, useToken, v.root}}
	adminFile, useFile := filepath.Join(home, "admin-token"), filepath.Join(home, "use-token")
	writeFile(t, adminFile, adminToken+"\n")
	writeFile(t, useFile, useToken+"\n")
	name := newName("e2e")
	adminURI := v.URI(name) + "&pin-source=file:" + adminFile
	useURI := v.URI(name) + "&pin-source=file:" + useFile

	u.mustRun(u.bin, alice.SecretAccessKey+"\n", "import", "--key", adminURI)
	var desc struct {
		Exists      bool `json:"exists"`
		Extractable bool `json:"extractable"`
	}
	out := u.mustRun(u.bin, "", "keys", "describe", "--key", adminURI)
	if err := json.Unmarshal([]byte(out), &desc); err != nil || !desc.Exists || desc.Extractable {
		t.Fatalf("keys describe = %s (%v)", out, err)
	}
	_, errOut, code := u.run(u.bin, alice.SecretAccessKey+"\n", "import", "--key", adminURI)
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second import: exit %d, %s", code, errOut)
	}

	line := `"` + u.bin + `" credential-process --key "` + useURI + `" --access-key-id ` + alice.AccessKeyID +
		" --endpoint-url " + moto.URL + " --role-arn " + roleARN + " --role-session-name vault-cli"
	writeFile(t, filepath.Join(home, "aws-config"), "[default]\nregion = us-east-1\ncredential_process = "+line+"\n")
	out = u.mustRun(cli, "", "--endpoint-url", moto.URL, "sts", "get-caller-identity", "--output", "text")
	if !strings.Contains(out, "assumed-role/deployer/vault-cli") {
		t.Fatalf("aws sts get-caller-identity = %q, want the assumed role", out)
	}
	// A wrong token in the pin file: one clear line, through the CLI, and no credentials.
	writeFile(t, useFile, "hvs.revoked-or-mistyped\n")
	writeFile(t, filepath.Join(home, "aws-config"), "[default]\nregion = us-east-1\ncredential_process = "+line+" --no-cache\n")
	_, errOut, code = u.run(cli, "", "--endpoint-url", moto.URL, "sts", "get-caller-identity")
	if code == 0 || !strings.Contains(errOut, "awskeep: ") || !strings.Contains(errOut, "incorrect") {
		t.Fatalf("the AWS CLI with a wrong Vault token: exit %d\n%s", code, errOut)
	}
	u.mustRun(u.bin, "", "keys", "delete", "--key", adminURI)

	// The AWS secret and the tokens are in no file awskeep wrote (the token files are the
	// user's own).
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == adminFile || path == useFile || strings.HasPrefix(path, binDir) || strings.HasPrefix(path, pluginDir) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range u.secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
