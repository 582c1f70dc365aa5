// Package e2e drives awskeep with the Tink plugin as a user would: the built awskeep front
// and awskeep-full in one directory, awskeep-plugin-tink in the plugin directory, moto as
// the SigV4-verifying KMS and STS, and the AWS CLI v1 as the client.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/awskeep/awskeep/core/buildtest"
	"github.com/awskeep/awskeep/core/mototest"
)

// build builds the host (front and full program, pure Go, from the cmd module) into bin and
// the plugin into plugins.
func build(t *testing.T, bin, plugins string) {
	t.Helper()
	if err := buildtest.Build(filepath.Join("..", "..", "cmd"), bin, []string{"./awskeep", "./awskeep-full"}); err != nil {
		t.Fatal(err)
	}
	if err := buildtest.Build("..", plugins, []string{"./cmd/awskeep-plugin-tink"}); err != nil {
		t.Fatal(err)
	}
}

// awsCLIv1 finds the AWS CLI v1 in the pyenv; the test fails without it.
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

type result struct {
	stdout, stderr string
	code           int
}

// machine is one user's machine: a home with the AWS config, the plugin's KMS credentials
// and the keyset, and the environment awskeep runs in.
type machine struct {
	t       *testing.T
	home    string
	env     []string
	secrets []string // must appear in no output and no file but the encrypted keyset
}

func (m *machine) run(bin, stdin string, extraEnv []string, args ...string) result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = append(append([]string(nil), m.env...), extraEnv...)
	// Detached from any terminal, as cron or CI run it: a PIN prompt would fail at once.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	c.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		m.t.Fatalf("run %s: %v", bin, err)
	}
	for _, s := range m.secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			m.t.Fatalf("output of %s %s holds a secret", filepath.Base(bin), strings.Join(args, " "))
		}
	}
	return r
}

// createKEK creates a KMS key in moto as u (before authentication is on) and returns the
// kek= of a tink: URI for it.
func createKEK(t *testing.T, moto *mototest.Server, u mototest.User) string {
	t.Helper()
	created, err := kms.New(kms.Options{
		Region: mototest.Region, BaseEndpoint: aws.String(moto.URL),
		Credentials: credentials.NewStaticCredentialsProvider(u.AccessKeyID, u.SecretAccessKey, ""),
	}).CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("awskeep e2e KEK")})
	if err != nil {
		t.Fatal(err)
	}
	return "aws-kms://" + aws.ToString(created.KeyMetadata.Arn)
}

// newMachine is a machine whose home is home, its plugins in plugins, with kmsUser's key
// as the [kms] profile of its shared credentials file (the plugin's KMS identity, reaching
// the plugin only where $AWSKEEP_PLUGIN_ENV names the file) and secrets that must never show.
func newMachine(t *testing.T, home, plugins string, kmsUser mototest.User, secrets ...string) *machine {
	t.Helper()
	credsFile := filepath.Join(home, "aws-credentials")
	if err := os.WriteFile(credsFile, fmt.Appendf(nil, "[kms]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		kmsUser.AccessKeyID, kmsUser.SecretAccessKey), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, home: home, secrets: secrets}
	m.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"AWSKEEP_PLUGIN_DIR=" + plugins,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + credsFile,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return m
}

// noFileHolds fails t for every file under dir that holds one of forms.
func noFileHolds(t *testing.T, dir string, forms ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forms {
			if bytes.Contains(data, []byte(f)) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustSucceed(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s failed with %d:\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
}

func TestCredentialProcessAndAWSCLI(t *testing.T) {
	cli := awsCLIv1(t)
	tmp := t.TempDir()
	bin, plugins := filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins")
	build(t, bin, plugins)
	awskeep := filepath.Join(bin, "awskeep")

	ctx := context.Background()
	moto := mototest.Start(t)
	alice, err := moto.CreateUser(ctx, "alice", true) // the secret that goes into the keyset
	if err != nil {
		t.Fatal(err)
	}
	kmsUser, err := moto.CreateUser(ctx, "kms-reader", true) // the plugin's KMS identity
	if err != nil {
		t.Fatal(err)
	}
	roleARN, err := moto.CreateRole(ctx, "deployer", alice.ARN)
	if err != nil {
		t.Fatal(err)
	}
	kek := createKEK(t, moto, kmsUser)
	if err := moto.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}

	home := filepath.Join(tmp, "home")
	keys := filepath.Join(home, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	keyset := filepath.Join(keys, "prod.keyset.json")
	// No pin-value=: the tink plugin does not declare plugins.CapabilityPIN, so the host
	// asks for no PIN (and every command here runs without a terminal, so a prompt would fail).
	keyURI := fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s&profile=kms", keyset, kek, moto.URL)
	// The plugin's KMS credentials: a profile in the shared credentials file, which the host
	// passes to the plugin only because $AWSKEEP_PLUGIN_ENV names the variable.
	m := newMachine(t, home, plugins, kmsUser, alice.SecretAccessKey)
	pluginEnv := "AWSKEEP_PLUGIN_ENV=AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_EC2_METADATA_DISABLED"

	t.Run("plugin gets no AWS credentials unless allowed", func(t *testing.T) {
		// The host never passes AWS_ACCESS_KEY_ID and friends, and without
		// $AWSKEEP_PLUGIN_ENV not the shared credentials file either.
		r := m.run(awskeep, alice.SecretAccessKey+"\n", []string{
			"AWS_ACCESS_KEY_ID=" + kmsUser.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + kmsUser.SecretAccessKey,
		}, "keys", "describe", "--key", keyURI)
		if r.code != 0 {
			t.Fatalf("describe of a missing keyset needs no KMS; failed: %s", r.stderr)
		}
		r = m.run(awskeep, alice.SecretAccessKey+"\n", nil, "import", "--key", keyURI)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `profile "kms"`) || !strings.Contains(r.stderr, "AWSKEEP_PLUGIN_ENV") ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Fatalf("import without KMS credentials: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(keyset); err == nil {
			t.Fatal("a failed import wrote the keyset")
		}
	})

	t.Run("import", func(t *testing.T) {
		r := m.run(awskeep, alice.SecretAccessKey+"\n", []string{pluginEnv}, "import", "--key", keyURI)
		mustSucceed(t, r, "awskeep import")
		if !strings.HasPrefix(r.stdout, "imported tink:file=") {
			t.Fatalf("import printed %q", r.stdout)
		}
		// The host warns once, saying what software-wrapped means.
		if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(r.stderr, "software-wrapped") {
			t.Fatalf("import stderr is not one software-wrapped warning:\n%s", r.stderr)
		}
		fi, err := os.Stat(keyset)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("keyset: %v, %v", fi, err)
		}
	})

	t.Run("describe", func(t *testing.T) {
		r := m.run(awskeep, "", []string{pluginEnv}, "keys", "describe", "--key", keyURI)
		mustSucceed(t, r, "awskeep keys describe")
		var d struct {
			Exists      bool              `json:"exists"`
			Extractable bool              `json:"extractable"`
			Sensitive   bool              `json:"sensitive"`
			Attributes  map[string]string `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("describe output %q: %v", r.stdout, err)
		}
		if !d.Exists || !d.Extractable || d.Sensitive || !strings.HasPrefix(d.Attributes["protection"], "software-wrapped") {
			t.Fatalf("describe = %s", r.stdout)
		}
	})

	t.Run("credential-process", func(t *testing.T) {
		r := m.run(awskeep, "", []string{pluginEnv}, "credential-process", "--key", keyURI,
			"--access-key-id", alice.AccessKeyID, "--endpoint-url", moto.URL, "--role-arn", roleARN,
			"--role-session-name", "tink", "--no-cache")
		mustSucceed(t, r, "awskeep credential-process")
		var out struct {
			Version                                   int
			AccessKeyID                               string `json:"AccessKeyId"`
			SecretAccessKey, SessionToken, Expiration string
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Version != 1 || out.AccessKeyID == "" ||
			out.SecretAccessKey == "" || out.SessionToken == "" || out.Expiration == "" {
			t.Fatalf("credential-process printed %q (%v)", r.stdout, err)
		}
	})

	t.Run("AWS CLI v1", func(t *testing.T) {
		line := fmt.Sprintf(`%s credential-process --key "%s" --access-key-id %s --endpoint-url %s --role-arn %s --role-session-name cli`,
			awskeep, keyURI, alice.AccessKeyID, moto.URL, roleARN)
		config := "[default]\nregion = us-east-1\ncredential_process = " + line + "\n"
		if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		r := m.run(cli, "", []string{pluginEnv}, "--endpoint-url", moto.URL, "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity")
		if !strings.Contains(r.stdout, "assumed-role/deployer/cli") {
			t.Fatalf("aws sts get-caller-identity = %q, want the assumed role", r.stdout)
		}
		// A second call is answered from awskeep's cache (the front), without the plugin.
		r = m.run(cli, "", []string{pluginEnv}, "--endpoint-url", moto.URL, "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity (cached)")
	})

	t.Run("credential_process loop ends with one clear line", func(t *testing.T) {
		// The plugin's KMS profile is the awskeep profile of the tink key itself, in
		// ~/.aws/config (HOME reaches plugins and their children), and the plugin is
		// installed next to awskeep, where every awskeep of the chain finds it: a real
		// loop. awskeep starts the plugin, whose credential_process runs awskeep with
		// $AWSKEEP_PLUGIN_DEPTH=1 in its environment, which refuses at once (before the
		// cache lock the first awskeep holds).
		data, err := os.ReadFile(filepath.Join(plugins, "awskeep-plugin-tink"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "awskeep-plugin-tink"), data, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(bin, "awskeep-plugin-tink"))
		innerLog := filepath.Join(tmp, "inner-awskeep.stderr")
		loopURI := fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s&profile=loop", keyset, kek, moto.URL)
		config := fmt.Sprintf("[profile loop]\nregion = us-east-1\ncredential_process = %s credential-process --profile loop 2>>%s\n"+
			"awskeep_key = %s\nawskeep_access_key_id = %s\nawskeep_role_arn = %s\nendpoint_url = %s\n", awskeep, innerLog, loopURI, alice.AccessKeyID, roleARN, moto.URL)
		if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
			t.Fatal(err)
		}
		loopConfig := filepath.Join(home, ".aws", "config")
		if err := os.WriteFile(loopConfig, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(loopConfig)
		env := []string{"AWS_CONFIG_FILE=" + loopConfig, "AWSKEEP_PLUGIN_DIR="}
		start := time.Now()
		// Without --no-cache, as the AWS CLI runs it: this awskeep holds the cache lock of
		// the profile while its plugin runs the inner awskeep for the same profile.
		r := m.run(awskeep, "", env, "credential-process", "--profile", "loop")
		took := time.Since(start)
		if r.code != 1 || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
			!strings.HasPrefix(r.stderr, "awskeep: ") || !strings.Contains(r.stderr, "credential_process") ||
			!strings.Contains(r.stderr, "loop") || !strings.Contains(r.stderr, "profile=") {
			t.Fatalf("the loop: exit %d after %v\nstdout: %s\nstderr: %s", r.code, took, r.stdout, r.stderr)
		}
		if took > 10*time.Second {
			t.Fatalf("the loop took %v to end", took)
		}
		t.Logf("the loop ended in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		// The inner awskeep's stderr (the SDK runs credential_process with sh -c, so the
		// profile can send it to a file): exactly one inner awskeep ran, and it refused.
		inner, err := os.ReadFile(innerLog)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(string(inner)), "\n"); len(lines) != 1 ||
			!strings.HasPrefix(lines[0], "awskeep: awskeep may not run under an awskeep plugin") {
			t.Fatalf("the inner awskeep's stderr, want one refusal:\n%s", inner)
		}
	})

	t.Run("no secret in any file", func(t *testing.T) {
		noFileHolds(t, tmp, alice.SecretAccessKey, base64.StdEncoding.EncodeToString([]byte("AWS4"+alice.SecretAccessKey)))
	})
}
