package e2e

import (
	"strings"
	"testing"
	"time"
)

// The AWS CLI captures credential_process's stderr, so awskeep asks for a PIN or an MFA
// code on the controlling terminal (/dev/tty), and fails at once, naming the setting that
// would answer, when there is none. These tests run the AWS CLI v1 as a user at a shell
// does, with a pseudo-terminal as its controlling terminal, and detached from any terminal
// (a new session, stdin on /dev/null) as cron or CI run it.

// noTerminalLimit is how soon awskeep must fail when it has nobody to ask.
const noTerminalLimit = time.Second

// mfaNoTerminalLimit is the same bound for a missing MFA code. awskeep asks for the code
// only after it has started the plugin and logged in to the device (measured here: 0.2 to
// 0.4 s, against 0.05 s for a missing PIN), so the bound leaves room for a loaded machine.
const mfaNoTerminalLimit = 2 * time.Second

// promptTimeout bounds the wait for a prompt or for the AWS CLI to finish: the CLI starts
// in about 250 ms and awskeep's cold path takes about 100 ms, but CI machines are slow.
const promptTimeout = time.Minute

func TestTerminalPIN(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	// awskeep_key without pin-source, and no $AWSKEEP_PIN in u.environ: only a person at
	// the terminal knows the PIN.
	u.writeConfig(t,
		awskeepProfile("nopin", u.token.KeyURI("prod"), "awskeep_role_arn = "+world.roleARN,
			"role_session_name = "+profileSession, "region = us-east-1", "services = moto"),
		motoServices("moto", world.server.URL),
	)
	cli := awsCLIs(t)["v1"]
	motoEnv := []string{"AWS_ENDPOINT_URL=" + world.server.URL}

	// Before the prompt succeeds, so that no cache entry answers for the key.
	t.Run("no terminal: credential-process fails at once", func(t *testing.T) {
		r, took := u.detached(awskeep, nil, "credential-process", "--profile", "nopin")
		mustFailClearly(t, r, "PIN", "pin-source", "AWSKEEP_PIN")
		if took > noTerminalLimit {
			t.Fatalf("credential-process took %v to fail without a terminal, want at most %v", took, noTerminalLimit)
		}
		t.Logf("failed in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	})

	t.Run("no terminal: the AWS CLI shows awskeep's message", func(t *testing.T) {
		r, _ := u.detached(cli, motoEnv, "--profile", "nopin", "sts", "get-caller-identity")
		if r.code == 0 {
			t.Fatal("the AWS CLI succeeded without a PIN")
		}
		for _, want := range []string{"awskeep: ", "pin-source", "AWSKEEP_PIN"} {
			if !strings.Contains(r.stderr, want) {
				t.Fatalf("the AWS CLI's stderr does not say %q:\n%s", want, r.stderr)
			}
		}
	})

	t.Run("the PIN prompt on the terminal", func(t *testing.T) {
		term := u.startTerminal(t, cli, append(motoEnv, "AWS_PAGER="),
			"--profile", "nopin", "sts", "get-caller-identity", "--output", "text")
		term.waitFor("PIN for pkcs11:", promptTimeout)
		term.typeLine(userPIN)
		code, out := term.wait(promptTimeout)
		if code != 0 {
			t.Fatalf("aws sts get-caller-identity exited %d; the terminal shows:\n%s", code, out)
		}
		if !strings.Contains(out, assumedRole("deployer", profileSession)) {
			t.Fatalf("the terminal does not show the assumed role:\n%s", out)
		}
		// Echo was off while the PIN was typed.
		if strings.Contains(out, userPIN) {
			t.Fatal("the PIN typed at the prompt appears on the terminal")
		}
		u.checkNoSecrets(out, u.secrets, "the terminal")
		// The prompt names the key, not where its PIN is.
		if strings.Contains(out, "pin-source") || strings.Contains(out, "pin-value") {
			t.Fatalf("the prompt shows PIN settings:\n%s", out)
		}
	})

	t.Run("no file holds a secret", func(t *testing.T) {
		// The credentials the prompt unlocked are in the cache now: no PIN needed.
		r, _ := u.detached(awskeep, nil, "credential-process", "--profile", "nopin")
		mustSucceed(t, r, "credential-process from the cache")
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
		u.checkFiles(t)
	})
}

func TestTerminalMFA(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	common := []string{"awskeep_role_arn = " + world.roleARN, "region = us-east-1", "services = moto",
		"mfa_serial = " + serial}
	// The PIN comes from the key's pin-source; the MFA code from a person, or from
	// awskeep_mfa_process. moto accepts any code, so these tests show where the code
	// comes from, not that it is checked.
	u.writeConfig(t,
		awskeepProfile("mfa", u.keyURI("prod"), append(common, "role_session_name = "+profileSession)...),
		// Another session name: another cache entry, so the prompt test is not answered
		// from this profile's cache entry.
		awskeepProfile("mfaproc", u.keyURI("prod"), append(common, "role_session_name = mfaproc",
			"awskeep_mfa_process = printf 123456")...),
		motoServices("moto", world.server.URL),
	)
	cli := awsCLIs(t)["v1"]
	motoEnv := []string{"AWS_ENDPOINT_URL=" + world.server.URL}

	t.Run("no terminal: fails naming --mfa-code and awskeep_mfa_process", func(t *testing.T) {
		r, took := u.detached(awskeep, nil, "credential-process", "--profile", "mfa")
		mustFailClearly(t, r, "MFA", "--mfa-code", "awskeep_mfa_process")
		if took > mfaNoTerminalLimit {
			t.Fatalf("credential-process took %v to fail without a terminal, want at most %v", took, mfaNoTerminalLimit)
		}
		t.Logf("failed in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		cliRun, _ := u.detached(cli, motoEnv, "--profile", "mfa", "sts", "get-caller-identity")
		if cliRun.code == 0 || !strings.Contains(cliRun.stderr, "awskeep_mfa_process") {
			t.Fatalf("aws --profile mfa without a terminal: exit %d, stderr:\n%s", cliRun.code, cliRun.stderr)
		}
	})

	t.Run("--mfa-code needs no terminal", func(t *testing.T) {
		r, _ := u.detached(awskeep, nil, "credential-process", "--profile", "mfa", "--mfa-code", "654321", "--no-cache")
		mustSucceed(t, r, "credential-process --mfa-code")
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
	})

	t.Run("awskeep_mfa_process needs no terminal", func(t *testing.T) {
		r, _ := u.detached(awskeep, nil, "credential-process", "--profile", "mfaproc")
		mustSucceed(t, r, "credential-process with awskeep_mfa_process")
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("deployer", "mfaproc") {
			t.Fatalf("caller = %q", got)
		}
		cliRun, _ := u.detached(cli, motoEnv, "--profile", "mfaproc", "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, cliRun, "aws --profile mfaproc sts get-caller-identity")
		if !strings.Contains(cliRun.stdout, assumedRole("deployer", "mfaproc")) {
			t.Fatalf("aws --profile mfaproc = %q", cliRun.stdout)
		}
	})

	t.Run("the MFA prompt on the terminal", func(t *testing.T) {
		term := u.startTerminal(t, cli, append(motoEnv, "AWS_PAGER="),
			"--profile", "mfa", "sts", "get-caller-identity", "--output", "text")
		term.waitFor("MFA code for "+serial+": ", promptTimeout)
		term.typeLine("123456")
		code, out := term.wait(promptTimeout)
		if code != 0 {
			t.Fatalf("aws sts get-caller-identity exited %d; the terminal shows:\n%s", code, out)
		}
		if !strings.Contains(out, assumedRole("deployer", profileSession)) {
			t.Fatalf("the terminal does not show the assumed role:\n%s", out)
		}
		// An MFA code is not secret and is echoed: the terminal echoes what is typed unless
		// awskeep turns echo off, as it does for the PIN (TestTerminalPIN).
		if !strings.Contains(out, "123456") {
			t.Fatalf("the MFA code typed was not echoed:\n%s", out)
		}
		u.checkNoSecrets(out, u.secrets, "the terminal")
		u.checkNoSecrets(out, u.tokens, "the terminal")
	})

	t.Run("no file holds a secret", func(t *testing.T) {
		r, _ := u.detached(awskeep, nil, "credential-process", "--profile", "mfa")
		mustSucceed(t, r, "credential-process from the cache")
		u.credentials(r.stdout)
		u.checkFiles(t)
	})
}
