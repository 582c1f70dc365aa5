package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// exportUser is a user with alice's key imported and two awskeep profiles: prod, whose key
// has a pin-source, and nopin, whose key has none (the PIN must come from $AWSKEEP_PIN).
func exportUser(t *testing.T) *user {
	t.Helper()
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	common := []string{"awskeep_role_arn = " + world.roleARN, "role_session_name = " + profileSession,
		"region = eu-west-1", "services = moto"}
	u.writeConfig(t,
		awskeepProfile("prod", u.keyURI("prod"), common...),
		awskeepProfile("nopin", u.token.KeyURI("prod"), common...),
		motoServices("moto", world.server.URL),
	)
	return u
}

func TestExport(t *testing.T) {
	u := exportUser(t)
	clis := awsCLIs(t)
	motoEnv := []string{"AWS_ENDPOINT_URL=" + world.server.URL}

	t.Run("env, evaluated by sh, for the AWS CLI", func(t *testing.T) {
		// The credentials reach the CLI only through the variables: no AWS_PROFILE, and
		// the config has no default profile.
		script := `eval "$("$AWSKEEP" export --profile prod --format env)" && "$AWS" sts get-caller-identity --output text`
		r := u.exec("/bin/sh", "", append(motoEnv, "AWSKEEP="+awskeep, "AWS="+clis["v1"]), "-c", script)
		mustSucceed(t, r, "sh -c 'eval \"$(awskeep export)\" && aws sts get-caller-identity'")
		if !strings.Contains(r.stdout, assumedRole("deployer", profileSession)) {
			t.Fatalf("aws sts get-caller-identity = %q, want the deployer session", r.stdout)
		}
	})

	t.Run("env lines", func(t *testing.T) {
		r := u.run("", nil, "export", "--profile", "prod")
		mustSucceed(t, r, "export")
		for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
			"AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION"} {
			if !strings.Contains(r.stdout, "export "+name+"='") {
				t.Errorf("export --format env (the default) does not set %s:\n%s", name, r.stdout)
			}
		}
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if !strings.HasPrefix(l, "export AWS_") {
				t.Fatalf("export prints a line that is not an export: %q", l)
			}
		}
	})

	t.Run("ini appended to the credentials file", func(t *testing.T) {
		r := u.run("", nil, "export", "--profile", "prod", "--format", "ini", "--section", "hsm-temp")
		mustSucceed(t, r, "export --format ini")
		if !strings.HasPrefix(r.stdout, "[hsm-temp]\n") {
			t.Fatalf("export --format ini --section hsm-temp starts %q", strings.SplitN(r.stdout, "\n", 2)[0])
		}
		f, err := os.OpenFile(u.credentialsPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("[unrelated]\naws_access_key_id = AKIAUNRELATED0000000\naws_secret_access_key = x\n\n" + r.stdout); err != nil {
			t.Fatal(err)
		}
		f.Close()
		// hsm-temp is a section of the credentials file only; the config has no such profile.
		for version, cli := range clis {
			r := u.exec(cli, "", append(motoEnv, "AWS_PAGER="), "--profile", "hsm-temp", "--region", "us-east-1",
				"--endpoint-url", world.server.URL, "sts", "get-caller-identity", "--output", "text")
			mustSucceed(t, r, version+": aws --profile hsm-temp sts get-caller-identity")
			if !strings.Contains(r.stdout, assumedRole("deployer", profileSession)) {
				t.Fatalf("%s: aws --profile hsm-temp = %q", version, r.stdout)
			}
		}
		// Without --section the section is the profile's name.
		r = u.run("", nil, "export", "--profile", "prod", "--format", "ini")
		mustSucceed(t, r, "export --format ini")
		if !strings.HasPrefix(r.stdout, "[prod]\n") {
			t.Fatalf("export --format ini --profile prod starts %q", strings.SplitN(r.stdout, "\n", 2)[0])
		}
	})

	t.Run("json", func(t *testing.T) {
		r := u.run("", nil, "export", "--profile", "prod", "--format", "json")
		mustSucceed(t, r, "export --format json")
		c := u.credentials(r.stdout)
		if got := callerARN(t, c); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
		if left := time.Until(c.Expiration); left < 15*time.Minute {
			t.Fatalf("the exported credentials expire in %v", left)
		}
	})

	t.Run("debug log of a cache miss", func(t *testing.T) {
		r := u.run("", nil, "export", "--debug", "--profile", "prod", "--format", "json", "--no-cache")
		mustSucceed(t, r, "export --debug")
		u.checkLog(t, r, u.credentials(r.stdout), "export --debug")
		// The PIN from $AWSKEEP_PIN is not logged either.
		r, _ = u.detached(awskeep, []string{"AWSKEEP_PIN=" + userPIN, "AWSKEEP_LOG_LEVEL=debug"},
			"export", "--profile", "nopin", "--format", "json", "--no-cache")
		mustSucceed(t, r, "AWSKEEP_PIN=... AWSKEEP_LOG_LEVEL=debug export --profile nopin")
		u.checkLog(t, r, u.credentials(r.stdout), "AWSKEEP_LOG_LEVEL=debug export --profile nopin")
	})

	t.Run("no file holds a secret", func(t *testing.T) {
		// The credentials file holds the section written on purpose, nothing else does.
		u.credentials(u.run("", nil, "export", "--profile", "prod", "--format", "json").stdout)
		u.checkFiles(t, u.credentialsPath())
	})
}

func TestExec(t *testing.T) {
	u := exportUser(t)
	motoEnv := []string{"AWS_ENDPOINT_URL=" + world.server.URL}

	t.Run("the AWS CLI in exec", func(t *testing.T) {
		r := u.run("", motoEnv, "exec", "--profile", "prod", "--", awsCLIs(t)["v1"], "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "exec -- aws sts get-caller-identity")
		if !strings.Contains(r.stdout, assumedRole("deployer", profileSession)) {
			t.Fatalf("aws sts get-caller-identity under exec = %q", r.stdout)
		}
	})

	t.Run("the exit status is passed on", func(t *testing.T) {
		r := u.run("", nil, "exec", "--profile", "prod", "--", "sh", "-c", "exit 7")
		if r.code != 7 || r.stdout != "" || r.stderr != "" {
			t.Fatalf("exec -- sh -c 'exit 7': exit %d, stdout %q, stderr %q; want 7 and nothing printed", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("SIGTERM reaches the child", func(t *testing.T) {
		dir := t.TempDir()
		ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got-term")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awskeep, "exec", "--profile", "prod", "--", "sh", "-c",
			`trap 'echo got-term > "$GOT"; exit 3' TERM; echo ready > "$READY"; while :; do sleep 0.1; done`)
		cmd.Env = u.environ("READY="+ready, "GOT="+got)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("the child did not start; stderr: %s", stderr.String())
			}
		}
		// To awskeep only, by its pid: the child is in awskeep's process group, not ours.
		if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		u.checkNoSecrets(stdout.String()+stderr.String(), u.secrets, "exec with SIGTERM")
		if code := cmd.ProcessState.ExitCode(); code != 3 {
			t.Fatalf("awskeep exec exited %d (%v) after SIGTERM, want the child's 3; stderr: %s", code, err, stderr.String())
		}
		data, err := os.ReadFile(got)
		if err != nil || strings.TrimSpace(string(data)) != "got-term" {
			t.Fatalf("the child's TERM trap did not run: %q, %v", data, err)
		}
	})

	t.Run("exec inside exec is refused", func(t *testing.T) {
		r := u.run("", nil, "exec", "--profile", "prod", "--", awskeep, "exec", "--profile", "prod", "--", "true")
		mustFailClearly(t, r, "--allow-nested")
	})

	t.Run("exec inside exec with --allow-nested", func(t *testing.T) {
		// The inner exec's --region shows that the inner awskeep set the environment.
		r := u.run("", nil, "exec", "--profile", "prod", "--", awskeep, "exec", "--allow-nested", "--profile", "prod",
			"--region", "us-west-2", "--", "sh", "-c", `echo "nested $AWSKEEP_PROFILE $AWS_REGION"`)
		mustSucceed(t, r, "exec -- awskeep exec --allow-nested")
		if r.stdout != "nested prod us-west-2\n" {
			t.Fatalf("nested exec printed %q", r.stdout)
		}
	})

	t.Run("the child's environment", func(t *testing.T) {
		// awskeep reads the PIN from $AWSKEEP_PIN (the key has no pin-source, and there is
		// no terminal to ask on); the child must not get it, nor the stale credentials and
		// profile selector around awskeep. The temporary credentials are meant to be in
		// the child's output.
		r, _ := u.detached(awskeep, []string{"AWSKEEP_PIN=" + userPIN, "AWS_PROFILE=prod",
			"AWS_ACCESS_KEY_ID=AKIASTALE00000000000", "AWS_SECRET_ACCESS_KEY=stale", "AWS_SESSION_TOKEN=stale"},
			"exec", "--profile", "nopin", "--", "env")
		mustSucceed(t, r, "AWSKEEP_PIN=... exec --profile nopin -- env")
		env := map[string]string{}
		for _, kv := range strings.Split(r.stdout, "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		for _, gone := range []string{"AWSKEEP_PIN", "AWS_PROFILE"} {
			if _, ok := env[gone]; ok {
				t.Errorf("the child's environment has %s", gone)
			}
		}
		want := map[string]string{"AWSKEEP_PROFILE": "nopin", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("the child's %s = %q, want %q", k, env[k], v)
			}
		}
		expiry, err := time.Parse(time.RFC3339, env["AWS_CREDENTIAL_EXPIRATION"])
		if err != nil {
			t.Fatalf("AWS_CREDENTIAL_EXPIRATION = %q: %v", env["AWS_CREDENTIAL_EXPIRATION"], err)
		}
		c := creds.Credentials{AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"],
			SessionToken: env["AWS_SESSION_TOKEN"], Expiration: expiry}
		if c.SessionToken == "" || c.SessionToken == "stale" || c.SecretAccessKey == "stale" {
			t.Fatal("the child did not get the temporary credentials")
		}
		u.tokens = append(u.tokens, c.SecretAccessKey, c.SessionToken)
		if got := callerARN(t, c); got != assumedRole("deployer", profileSession) {
			t.Fatalf("the child's credentials belong to %q", got)
		}
	})

	t.Run("debug log of a cache miss", func(t *testing.T) {
		r := u.run("", nil, "exec", "--debug", "--profile", "prod", "--no-cache", "--", "sh", "-c",
			`printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"%s","Expiration":"%s"}\n' `+
				`"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION"`)
		mustSucceed(t, r, "exec --debug")
		u.checkLog(t, r, u.credentials(r.stdout), "exec --debug")
	})

	t.Run("no file holds a secret", func(t *testing.T) {
		u.checkFiles(t)
	})
}
