package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/samltest"
)

// Okta's second factors end to end: a TOTP code from the terminal or from
// awskeep_mfa_process, and an Okta Verify push, against samltest's fake of the
// Authentication API, which counts the passcodes it checked and the pushes it sent.

// oktaProfile is an Okta profile for user at idp with the given password source.
func (su *samlUser) oktaProfile(name string, idp *samltest.IdP, user, passwordSource string, lines ...string) string {
	return su.samlProfile(name, append([]string{
		"awskeep_saml_url = " + idp.OktaAppURL,
		"awskeep_saml_provider = okta",
		"awskeep_saml_username = " + user,
		"awskeep_saml_password_source = " + passwordSource,
	}, lines...)...)
}

// mfaProcess writes an executable that prints code, for awskeep_mfa_process, into a
// directory outside the user's home (checkSecrets searches the home for the code), and
// returns its path: the code is in no command line.
func mfaProcess(t *testing.T, code string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "totp-code")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nprintf '%s\\n' "+code+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSAMLOktaTOTP: an Okta user with a TOTP factor. With neither a terminal nor
// awskeep_mfa_process, one line naming awskeep_mfa_process; awskeep login asks for the code
// once on a terminal and fills the cache; awskeep_mfa_process answers under the AWS CLI with
// no terminal; a wrong code fails in one line and reaches Okta once; a locked account says
// so in one line.
func TestSAMLOktaTOTP(t *testing.T) {
	const (
		idpPassword = "totp-Pw-e2e-58"
		code        = "246813"
		wrongCode   = "135792"
		lockedUser  = "locked-" + samlUserName
	)
	idp := samltest.Start(t, samltest.Options{
		Users:  map[string]string{samlUserName: idpPassword, lockedUser: idpPassword},
		Locked: []string{lockedUser},
		TOTP:   map[string]string{samlUserName: code},
	})
	// The codes are secrets too: in no output, error or file.
	su := newSAMLUser(t, idpPassword, code, wrongCode)
	password := su.passwordFile(t, "idp-password", idpPassword)
	// The profiles share one cache entry (same IdP, user and role): tests that need a login
	// empty the cache first.
	su.writeConfig(t,
		su.oktaProfile("totp", idp, samlUserName, password),
		su.oktaProfile("totp-process", idp, samlUserName, password, "awskeep_mfa_process = "+mfaProcess(t, code)),
		su.oktaProfile("totp-wrong", idp, samlUserName, password, "awskeep_mfa_process = "+mfaProcess(t, wrongCode)),
		su.oktaProfile("locked", idp, lockedUser, password),
	)
	want := assumedRole(roleName(samlRole.RoleARN), samlUserName)
	// checkOkta checks what Okta saw for alice so far: passcodes checked and refused.
	checkOkta := func(t *testing.T, checked, failed int) {
		t.Helper()
		if n := idp.PasscodesChecked(samlUserName); n != checked {
			t.Fatalf("Okta checked %d passcodes, want %d", n, checked)
		}
		if n := idp.FailedLogins(samlUserName); n != failed {
			t.Fatalf("Okta refused %d passwords or passcodes, want %d", n, failed)
		}
	}
	emptyCache := func(t *testing.T) {
		t.Helper()
		if err := os.RemoveAll(su.cacheDir()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("no terminal, no awskeep_mfa_process: one line naming it", func(t *testing.T) {
		r, took := su.detached(awskeep, nil, "credential-process", "--profile", "totp")
		su.remember(r)
		mustFailClearly(t, r, "MFA", "awskeep_mfa_process")
		t.Logf("%s", strings.TrimSpace(r.stderr))
		// The question comes after the IdP's first answer, as MFA after a device login.
		if took > mfaNoTerminalLimit {
			t.Fatalf("credential-process took %v to fail without a terminal, want at most %v", took, mfaNoTerminalLimit)
		}
		cli := su.detachedSAML(awsCLIs(t)["v1"], nil, "--profile", "totp", "sts", "get-caller-identity")
		if cli.code == 0 || !strings.Contains(cli.stderr, "awskeep: ") || !strings.Contains(cli.stderr, "awskeep_mfa_process") {
			t.Fatalf("aws without a terminal: exit %d, stderr:\n%s", cli.code, cli.stderr)
		}
		checkOkta(t, 0, 0)
		su.sts.checkSAMLCalls(t, 0)
	})

	t.Run("login on a terminal asks for the code once", func(t *testing.T) {
		term := su.startTerminal(t, awskeep, nil, "login", "--profile", "totp")
		question := "verification code for " + samlUserName + " at "
		term.waitFor(question, promptTimeout)
		term.typeLine(code)
		status, out := term.wait(promptTimeout)
		// A code is echoed as typed (TestTerminalMFA); it must not be shown anywhere else.
		if n := strings.Count(out, code); n > 1 {
			t.Fatalf("the code shows %d times on the terminal, typed once:\n%s", n, out)
		}
		su.rememberText(strings.Replace(out, code, "", 1))
		if status != 0 {
			t.Fatalf("login exited %d; the terminal shows:\n%s", status, out)
		}
		if n := strings.Count(out, question); n != 1 {
			t.Fatalf("the code was asked %d times:\n%s", n, out)
		}
		if strings.Contains(out, "password for") {
			t.Fatalf("login asked for the password, which the profile's file gives:\n%s", out)
		}
		if !strings.Contains(out, "logged in: ASIA") {
			t.Fatalf("login does not say it logged in:\n%s", out)
		}
		checkOkta(t, 1, 0)
		su.sts.checkSAMLCalls(t, 1)

		// No terminal now: the cache answers, nothing is asked.
		c := su.credentialProcess(t, nil, "totp")
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		checkOkta(t, 1, 0)
		su.sts.checkSAMLCalls(t, 1)
	})

	t.Run("awskeep_mfa_process under the AWS CLI with no terminal", func(t *testing.T) {
		emptyCache(t)
		r := su.detachedSAML(awsCLIs(t)["v1"], nil, "--profile", "totp-process", "sts", "get-caller-identity",
			"--query", "Arn", "--output", "text")
		mustSucceed(t, r, "aws --profile totp-process sts get-caller-identity")
		if got := strings.TrimSpace(r.stdout); got != want {
			t.Fatalf("aws sts get-caller-identity = %q, want %q", got, want)
		}
		checkOkta(t, 2, 0)
		su.sts.checkSAMLCalls(t, 2)
	})

	t.Run("a wrong code: one line, sent once", func(t *testing.T) {
		emptyCache(t)
		r := su.detachedSAML(awskeep, nil, "credential-process", "--profile", "totp-wrong")
		mustFailClearly(t, r, "Okta refused the MFA code for "+samlUserName, "not retried")
		t.Logf("%s", strings.TrimSpace(r.stderr))
		checkOkta(t, 3, 1)
		// The AWS CLI runs credential_process once: still one code per run.
		cli := su.detachedSAML(awsCLIs(t)["v1"], nil, "--profile", "totp-wrong", "sts", "get-caller-identity")
		if cli.code == 0 || !strings.Contains(cli.stderr, "awskeep: ") || !strings.Contains(cli.stderr, "refused the MFA code") {
			t.Fatalf("aws with a wrong code: exit %d, stderr:\n%s", cli.code, cli.stderr)
		}
		checkOkta(t, 4, 2)
		su.sts.checkSAMLCalls(t, 2)
	})

	t.Run("locked account", func(t *testing.T) {
		r := su.detachedSAML(awskeep, nil, "credential-process", "--profile", "locked")
		mustFailClearly(t, r, "Okta has locked the account "+lockedUser, "administrator")
		t.Logf("%s", strings.TrimSpace(r.stderr))
		if n := idp.PasscodesChecked(lockedUser); n != 0 {
			t.Fatalf("Okta checked %d passcodes for a locked account", n)
		}
		su.sts.checkSAMLCalls(t, 2)
	})

	su.checkSecrets(t)
}

// TestSAMLOktaPush: an Okta user whose one factor is an Okta Verify push. The AWS CLI gets
// credentials with no terminal while awskeep polls; awskeep login on a terminal shows one
// line asking to approve the push; a rejected push fails in one line and is not sent again.
func TestSAMLOktaPush(t *testing.T) {
	const (
		idpPassword   = "push-Pw-e2e-26"
		rejectingUser = "rejecting-" + samlUserName
	)
	idp := samltest.Start(t, samltest.Options{
		Users:     map[string]string{samlUserName: idpPassword, rejectingUser: idpPassword},
		Push:      map[string]samltest.PushAnswer{samlUserName: samltest.PushApprove, rejectingUser: samltest.PushReject},
		PushWaits: 2, // two WAITING answers, so awskeep polls twice
	})
	su := newSAMLUser(t, idpPassword)
	password := su.passwordFile(t, "idp-password", idpPassword)
	su.writeConfig(t,
		su.oktaProfile("push", idp, samlUserName, password),
		su.oktaProfile("push-rejected", idp, rejectingUser, password),
	)
	want := assumedRole(roleName(samlRole.RoleARN), samlUserName)
	const notice = "approve the push on your phone"
	checkPushes := func(t *testing.T, user string, n int) {
		t.Helper()
		if got := idp.PushesSent(user); got != n {
			t.Fatalf("Okta sent %s %d pushes, want %d", user, got, n)
		}
	}

	t.Run("AWS CLI v1 through credential_process, no terminal", func(t *testing.T) {
		r := su.detachedSAML(awsCLIs(t)["v1"], nil, "--profile", "push", "sts", "get-caller-identity",
			"--query", "Arn", "--output", "text")
		mustSucceed(t, r, "aws --profile push sts get-caller-identity")
		if got := strings.TrimSpace(r.stdout); got != want {
			t.Fatalf("aws sts get-caller-identity = %q, want %q", got, want)
		}
		checkPushes(t, samlUserName, 1)
		su.sts.checkSAMLCalls(t, 1)

		c := su.credentialProcess(t, nil, "push")
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q from the cache, want %q", got, want)
		}
		checkPushes(t, samlUserName, 1)
	})

	t.Run("login on a terminal shows one line to approve the push", func(t *testing.T) {
		if err := os.RemoveAll(su.cacheDir()); err != nil {
			t.Fatal(err)
		}
		term := su.startTerminal(t, awskeep, nil, "login", "--profile", "push")
		status, out := term.wait(promptTimeout)
		su.rememberText(out)
		if status != 0 {
			t.Fatalf("login exited %d; the terminal shows:\n%s", status, out)
		}
		if n := strings.Count(out, notice); n != 1 {
			t.Fatalf("the terminal shows %q %d times, want once:\n%s", notice, n, out)
		}
		if !strings.Contains(out, "logged in: ASIA") {
			t.Fatalf("login does not say it logged in:\n%s", out)
		}
		checkPushes(t, samlUserName, 2)
		su.sts.checkSAMLCalls(t, 2)
	})

	t.Run("a rejected push: one line, not sent again", func(t *testing.T) {
		r := su.detachedSAML(awskeep, nil, "credential-process", "--profile", "push-rejected")
		mustFailClearly(t, r, "Okta Verify push was rejected", rejectingUser)
		t.Logf("%s", strings.TrimSpace(r.stderr))
		checkPushes(t, rejectingUser, 1)
		su.sts.checkSAMLCalls(t, 2)
	})

	su.checkSecrets(t)
}
