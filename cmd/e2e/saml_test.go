package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/krbtest"
	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// The SAML source end to end: awskeep logs in at a samltest IdP (the Okta authn API fake,
// a form login, or an SPNEGO-protected page in front of a real MIT KDC), takes the
// SAMLResponse, picks the role and trades the assertion with STS AssumeRoleWithSAML (moto,
// behind samlSTS), and the AWS CLI v1 and boto3 use the result through credential_process.
// The IdP password comes from a fake Conjur, the keyring's file backend, a 0600 file or the
// terminal.

// samlExportLine is one line of `awskeep export --format env`.
var samlExportLine = regexp.MustCompile(`^export (AWS_[A-Z_]+)=(.*)$`)

// TestSAMLOktaConjur: Okta's authn API with the password from a Conjur variable, used by
// AWS CLI v1, boto3, export and update (checkSinks).
func TestSAMLOktaConjur(t *testing.T) {
	const idpPassword = "okta-Pw-7c41e2e!"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": idpPassword}})
	su := newSAMLUser(t, idpPassword, conjur.APIKey)
	su.writeConfig(t, su.samlProfile("okta",
		"awskeep_saml_url = "+idp.OktaAppURL,
		"awskeep_saml_provider = okta",
		"awskeep_saml_username = "+samlUserName,
		"awskeep_saml_password_source = conjur:prod/okta/password"))
	su.checkSinks(t, samlSinks{
		profile: "okta",
		env:     conjurEnv(conjur),
		logins: func(t *testing.T, n int) {
			if got := conjur.Retrievals(); got != n {
				t.Fatalf("Conjur was read %d times for %d logins", got, n)
			}
			if got := idp.FailedLogins(samlUserName); got != 0 {
				t.Fatalf("the IdP saw %d failed logins", got)
			}
		},
	})
	su.checkSecrets(t, su.credentialsPath())
}

// samlSinks is a SAML profile to run through every sink of the acceptance (checkSinks).
type samlSinks struct {
	profile string
	// env is what a login needs: CONJUR_*, the keyring's backend and password, KRB5CCNAME.
	env []string
	// cacheEnv is the environment of the cache hit: without the password source (or, for
	// Kerberos, without the KDC's configuration), so that a hit is seen not to touch it.
	cacheEnv []string
	// logins, when set, checks the IdP's side after each step, given how many logins the
	// steps made so far (Conjur reads, failed logins, KDC tickets).
	logins func(t *testing.T, n int)
	// session is the RoleSessionName the IdP gives; default samlUserName.
	session string
}

// checkSinks checks that profile gives working credentials of samlRole's session for
// s.session (samlUserName) through each sink: the AWS CLI v1 through credential_process (a login),
// boto3 through credential_process with an empty cache (a login), credential-process from
// the cache (no login), export --no-cache (a login) and update into [PROFILE-static] of
// the credentials file (from the cache), which the AWS CLI then reads alone. Every login
// sends STS one unsigned AssumeRoleWithSAML for samlRole. Callers allow the credentials
// file in checkSecrets.
func (su *samlUser) checkSinks(t *testing.T, s samlSinks) {
	t.Helper()
	session := s.session
	if session == "" {
		session = samlUserName
	}
	want := assumedRole(roleName(samlRole.RoleARN), session)
	before := len(su.sts.samlCalls())
	logins := 0
	logged := func(t *testing.T, n int) {
		t.Helper()
		logins += n
		su.sts.checkSAMLCalls(t, before+logins)
		if n > 0 {
			call := su.sts.lastSAMLCall(t)
			if call.RoleARN != samlRole.RoleARN || call.PrincipalARN != samlRole.PrincipalARN {
				t.Fatalf("AssumeRoleWithSAML for %s, %s; want %s, %s", call.RoleARN, call.PrincipalARN, samlRole.RoleARN, samlRole.PrincipalARN)
			}
		}
		if s.logins != nil {
			s.logins(t, logins)
		}
	}

	t.Run("AWS CLI v1 through credential_process", func(t *testing.T) {
		if got := su.cliCallerARN(t, s.env, s.profile); got != want {
			t.Fatalf("aws sts get-caller-identity = %q, want %q", got, want)
		}
		logged(t, 1)
	})

	t.Run("boto3 through credential_process", func(t *testing.T) {
		// An empty cache: boto3's credential_process logs in itself.
		if err := os.RemoveAll(su.cacheDir()); err != nil {
			t.Fatal(err)
		}
		if got := su.botoCallerARN(t, s.env, s.profile); got != want {
			t.Fatalf("boto3 get_caller_identity = %q, want %q", got, want)
		}
		logged(t, 1)
	})

	t.Run("credential-process from the cache", func(t *testing.T) {
		c := su.credentialProcess(t, s.cacheEnv, s.profile)
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		logged(t, 0)
	})

	t.Run("export", func(t *testing.T) {
		r := su.runSAML(s.env, "export", "--profile", s.profile, "--no-cache")
		mustSucceed(t, r, "export --profile "+s.profile)
		vars := map[string]string{}
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			m := samlExportLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("export printed a line that is not export AWS_...=: %q", l)
			}
			vars[m[1]] = strings.Trim(m[2], `'"`)
		}
		c := credprocOutput{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"], SessionToken: vars["AWS_SESSION_TOKEN"]}
		su.tokens = append(su.tokens, c.SecretAccessKey, c.SessionToken)
		if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
			t.Fatalf("export printed %d variables, not the three of a session", len(vars))
		}
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		logged(t, 1) // --no-cache: a new login
	})

	t.Run("update", func(t *testing.T) {
		static := s.profile + "-static"
		r := su.runSAML(s.env, "update", "--profile", s.profile, "--credentials-profile", static)
		mustSucceed(t, r, "update --profile "+s.profile)
		if !strings.HasPrefix(r.stdout, "updated ["+static+"] in "+su.credentialsPath()) {
			t.Fatalf("update printed %q", r.stdout)
		}
		data, err := os.ReadFile(su.credentialsPath())
		if err != nil {
			t.Fatal(err)
		}
		sections, _ := credentialsSections(data)
		sec := sections[static]
		su.tokens = append(su.tokens, sec["aws_secret_access_key"], sec["aws_session_token"])
		if !completeSection(sec) {
			t.Fatalf("[%s] after update has keys %d, want %v", static, len(sec), updateKeys)
		}
		// The AWS CLI reads [PROFILE-static] from the credentials file alone.
		r = su.execSAML(awsCLIs(t)["v1"], []string{"AWS_ENDPOINT_URL=" + world.server.URL, "AWS_DEFAULT_REGION=us-east-1"},
			"--profile", static, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		mustSucceed(t, r, "aws --profile "+static+" sts get-caller-identity")
		if got := strings.TrimSpace(r.stdout); got != want {
			t.Fatalf("aws --profile %s = %q, want %q", static, got, want)
		}
		logged(t, 0) // the credentials of the cache
	})
}

// TestSAMLFormKeyring: a form login with the password in the keyring's file backend, stored
// with awskeep saml store-password on a terminal, used by AWS CLI v1, boto3, export and
// update (checkSinks).
func TestSAMLFormKeyring(t *testing.T) {
	const (
		idpPassword     = "form-Pw-93ad e2e"
		keyringPassword = "keyring-files-pw-5e2e"
	)
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	needKeyringHelper(t)
	su := newSAMLUser(t, idpPassword, keyringPassword)
	su.writeConfig(t, su.formProfile("form", idp, "keyring:idp-alice"))
	// pass is installed here and would come before the file backend: choose it.
	env := []string{"AWSKEEP_KEYRING_BACKEND=file", "AWSKEEP_KEYRING_PASSWORD=" + keyringPassword}

	t.Run("nothing stored yet", func(t *testing.T) {
		r := su.detachedSAML(awskeep, env, "credential-process", "--profile", "form")
		mustFailClearly(t, r, "keyring:idp-alice", "awskeep saml store-password --profile")
		su.sts.checkSAMLCalls(t, 0)
		// The hint is a command to copy: it names the profile.
		if !strings.Contains(r.stderr, "awskeep saml store-password --profile form") {
			t.Errorf("the hint does not name the profile:\n%s", r.stderr)
		}
	})

	t.Run("store-password on a terminal", func(t *testing.T) {
		term := su.startTerminal(t, awskeep, env, "saml", "store-password", "--profile", "form")
		term.waitFor("form password for "+samlUserName+": ", promptTimeout)
		term.typeLine(idpPassword)
		term.waitFor("again: ", promptTimeout)
		term.typeLine(idpPassword)
		code, out := term.wait(promptTimeout)
		su.rememberText(out)
		if code != 0 {
			t.Fatalf("store-password exited %d; the terminal shows:\n%s", code, out)
		}
		if !strings.Contains(out, "stored the password in the keyring as idp-alice") {
			t.Fatalf("the terminal does not say where the password went:\n%s", out)
		}
		if strings.Contains(out, idpPassword) {
			t.Fatal("the password typed at store-password's prompt was echoed")
		}
		dir := filepath.Join(su.home, ".local", "share", "awskeep", "keyring")
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("no keyring file in %s: %v", dir, err)
		}
		notInFiles(t, dir, idpPassword, "", "the IdP password in clear")
	})

	t.Run("without the keyring password and no terminal", func(t *testing.T) {
		r := su.detachedSAML(awskeep, []string{"AWSKEEP_KEYRING_BACKEND=file"}, "credential-process", "--profile", "form")
		mustFailClearly(t, r, "AWSKEEP_KEYRING_PASSWORD")
		su.sts.checkSAMLCalls(t, 0)
	})

	su.checkSinks(t, samlSinks{
		profile: "form",
		env:     env,
		logins: func(t *testing.T, n int) {
			if got := idp.FailedLogins(samlUserName); got != 0 {
				t.Fatalf("the IdP saw %d failed logins", got)
			}
		},
	})

	su.checkSecrets(t, su.credentialsPath())
}

// kerberosIdP is a samltest IdP whose /wia page takes only a Kerberos ticket for
// HTTP/localhost from kdc, and answers with the SSO page of the ticket's user.
func kerberosIdP(t *testing.T, kdc *krbtest.KDC, opts samltest.Options) (*samltest.IdP, string) {
	t.Helper()
	idp := samltest.Start(t, opts)
	idp.Handle("GET /wia", kdc.Protect(t, "HTTP/localhost", func(w http.ResponseWriter, r *http.Request, principal string) {
		idp.SSOPage(w, r, strings.TrimSuffix(principal, "@"+kdc.Realm))
	}))
	// localhost, not 127.0.0.1: the client asks the KDC for HTTP/<host as written>.
	return idp, krbtest.Localhost(idp.URL) + "/wia?loginToRp=urn:amazon:webservices"
}

// TestSAMLKerberos: an IdP that takes the user's Kerberos ticket (kinit into a FILE:
// cache, KRB5CCNAME), used by AWS CLI v1, boto3, export and update (checkSinks); without a
// ticket, one line that says kinit.
func TestSAMLKerberos(t *testing.T) {
	const krbPassword = "alice-Krb-pw-e2e"
	kdc := krbtest.Start(t)
	kdc.AddUser(t, samlUserName, krbPassword)
	cc := kdc.Kinit(t, samlUserName, krbPassword)
	_, wia := kerberosIdP(t, kdc, samltest.Options{})
	su := newSAMLUser(t, krbPassword)
	su.writeConfig(t, su.samlProfile("krb", "awskeep_saml_url = "+wia, "awskeep_saml_provider = kerberos"))
	env := append(kdc.Env(), "KRB5CCNAME=FILE:"+cc)

	t.Run("no ticket", func(t *testing.T) {
		none := append(kdc.Env(), "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "krb5cc_none"))
		r := su.detachedSAML(awskeep, none, "credential-process", "--profile", "krb")
		mustFailClearly(t, r, "kinit")
		cli := su.detachedSAML(awsCLIs(t)["v1"], none, "--profile", "krb", "sts", "get-caller-identity")
		if cli.code == 0 || !strings.Contains(cli.stderr, "awskeep: ") || !strings.Contains(cli.stderr, "kinit") {
			t.Fatalf("aws without a Kerberos ticket: exit %d, stderr:\n%s", cli.code, cli.stderr)
		}
		su.sts.checkSAMLCalls(t, 0)
	})

	su.checkSinks(t, samlSinks{
		profile: "krb",
		env:     env,
		// The ticket cache names the cache entry (its principal); without the KDC's
		// configuration a login could not get a service ticket.
		cacheEnv: []string{"KRB5CCNAME=FILE:" + cc},
		logins: func(t *testing.T, n int) {
			if n > 0 && !strings.Contains(kdc.Log(), "HTTP/localhost@"+kdc.Realm) {
				t.Fatalf("the KDC issued no ticket for HTTP/localhost:\n%s", kdc.Log())
			}
		},
	})

	su.checkSecrets(t, su.credentialsPath())
}

// twoRoles are the roles of the role-choice tests: the assertion offers both.
var twoRoles = []samlassert.Role{
	samltest.AWSRole(samltest.AccountID, "saml-dev", "awskeep-idp"),
	samltest.AWSRole(samltest.AccountID, "saml-ops", "awskeep-idp"),
}

// TestSAMLRoleChoice: an assertion with two roles and no awskeep_saml_role_arn. On a
// terminal awskeep shows both and sends STS the one picked; without one it fails at once
// naming awskeep_saml_role_arn.
func TestSAMLRoleChoice(t *testing.T) {
	const idpPassword = "choose-Pw-e2e-31"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}, Roles: twoRoles})

	newChooser := func(t *testing.T) *samlUser {
		su := newSAMLUser(t, idpPassword)
		su.writeConfig(t, su.formProfile("choose", idp, su.passwordFile(t, "idp-password", idpPassword)))
		return su
	}

	t.Run("no terminal: the AWS CLI shows one line naming awskeep_saml_role_arn", func(t *testing.T) {
		su := newChooser(t)
		r, took := su.detached(awskeep, nil, "credential-process", "--profile", "choose")
		su.remember(r)
		mustFailClearly(t, r, "awskeep_saml_role_arn")
		// The choice comes after the IdP login, so the bound is the one for a question
		// asked after some work (MFA after the device login).
		if took > mfaNoTerminalLimit {
			t.Fatalf("credential-process took %v to fail without a terminal, want at most %v", took, mfaNoTerminalLimit)
		}
		cli := su.detachedSAML(awsCLIs(t)["v1"], nil, "--profile", "choose", "sts", "get-caller-identity")
		if cli.code == 0 || !strings.Contains(cli.stderr, "awskeep: ") || !strings.Contains(cli.stderr, "awskeep_saml_role_arn") {
			t.Fatalf("aws without a terminal: exit %d, stderr:\n%s", cli.code, cli.stderr)
		}
		su.sts.checkSAMLCalls(t, 0)
		su.checkSecrets(t)
	})

	t.Run("the chooser under the AWS CLI on a terminal", func(t *testing.T) {
		su := newChooser(t)
		term := su.startTerminal(t, awsCLIs(t)["v1"], []string{"AWS_PAGER="},
			"--profile", "choose", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		term.waitFor("Enter a number from 1 to 2: ", promptTimeout)
		shown := term.output()
		for _, r := range twoRoles {
			if !strings.Contains(shown, r.RoleARN) {
				t.Fatalf("the chooser does not show %s:\n%s", r.RoleARN, shown)
			}
		}
		term.typeLine("1")
		code, out := term.wait(promptTimeout)
		su.rememberText(out)
		if code != 0 {
			t.Fatalf("aws sts get-caller-identity exited %d; the terminal shows:\n%s", code, out)
		}
		if !strings.Contains(out, assumedRole("saml-dev", samlUserName)) {
			t.Fatalf("the terminal does not show the dev role's session:\n%s", out)
		}
		su.sts.checkSAMLCalls(t, 1)
		call := su.sts.lastSAMLCall(t)
		if call.RoleARN != twoRoles[0].RoleARN || call.PrincipalARN != twoRoles[0].PrincipalARN || len(call.Roles) != 2 {
			t.Fatalf("STS got RoleArn %s, PrincipalArn %s for an assertion with roles %v; want %s", call.RoleARN, call.PrincipalARN, call.Roles, twoRoles[0].RoleARN)
		}
		su.checkSecrets(t)
	})

	t.Run("awskeep login on a terminal picks the second role", func(t *testing.T) {
		su := newChooser(t)
		term := su.startTerminal(t, awskeep, nil, "login", "--profile", "choose")
		term.waitFor("Enter a number from 1 to 2: ", promptTimeout)
		term.typeLine("2")
		code, out := term.wait(promptTimeout)
		su.rememberText(out)
		if code != 0 {
			t.Fatalf("login exited %d; the terminal shows:\n%s", code, out)
		}
		if !strings.Contains(out, "logged in: ASIA") {
			t.Fatalf("login does not say it logged in:\n%s", out)
		}
		call := su.sts.lastSAMLCall(t)
		if call.RoleARN != twoRoles[1].RoleARN {
			t.Fatalf("STS got RoleArn %s, want the one picked, %s", call.RoleARN, twoRoles[1].RoleARN)
		}
		// The chosen role's credentials are in the cache: no terminal, no new login.
		c := su.credentialProcess(t, nil, "choose")
		if got := callerARN(t, c); got != assumedRole("saml-ops", samlUserName) {
			t.Fatalf("caller %q after picking saml-ops", got)
		}
		su.sts.checkSAMLCalls(t, 1)
		su.checkSecrets(t)
		// login's one line names the role (its help: "the access key ID, the role (SAML)
		// and when the credentials expire"), also when it was picked at the prompt.
		if line := out[strings.LastIndex(out, "logged in: "):]; !strings.Contains(line, twoRoles[1].RoleARN) {
			t.Errorf("login printed %q: it does not name the role picked, %s", strings.TrimSpace(line), twoRoles[1].RoleARN)
		}
	})

	t.Run("awskeep_saml_role_arn answers the choice", func(t *testing.T) {
		su := newSAMLUser(t, idpPassword)
		su.writeConfig(t, su.formProfile("ops", idp, su.passwordFile(t, "idp-password", idpPassword),
			"awskeep_saml_role_arn = "+twoRoles[1].RoleARN))
		c := su.credentialProcess(t, nil, "ops")
		if got := callerARN(t, c); got != assumedRole("saml-ops", samlUserName) {
			t.Fatalf("caller %q, want the saml-ops session", got)
		}
		su.checkSecrets(t)
	})
}

// TestSAMLBadInput: every failure is one line on stderr naming what failed, exit 1, nothing
// on stdout, no STS call, and a refused password is tried once.
func TestSAMLBadInput(t *testing.T) {
	const (
		idpPassword = "bad-input-Pw-e2e"
		wrong       = "not-the-Pw-e2e"
		krbPassword = "bob-Krb-pw-e2e"
	)
	users := map[string]string{samlUserName: idpPassword}
	idp := samltest.Start(t, samltest.Options{Users: users})
	// Expired beyond the clock skew awskeep allows.
	expired := samltest.Start(t, samltest.Options{Users: users, Validity: -(samlassert.ClockSkew + time.Minute)})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": wrong}})

	// A KDC that is gone after bob's kinit, and a ticket cache that does not exist.
	gone := krbtest.Start(t)
	gone.AddUser(t, "bob", krbPassword)
	goneCC := gone.Kinit(t, "bob", krbPassword)
	gone.Stop()
	live := krbtest.Start(t)
	_, wia := kerberosIdP(t, live, samltest.Options{})

	su := newSAMLUser(t, idpPassword, wrong, krbPassword, conjur.APIKey)
	good := su.passwordFile(t, "idp-password", idpPassword)
	bad := su.passwordFile(t, "wrong-password", wrong)
	su.writeConfig(t,
		su.formProfile("wrong-form", idp, bad),
		// Another IdP account, so that FailedLogins counts each case apart.
		su.samlProfile("wrong-okta", "awskeep_saml_url = "+idp.OktaAppURL, "awskeep_saml_provider = okta",
			"awskeep_saml_username = okta-"+samlUserName, "awskeep_saml_password_source = conjur:prod/okta/password"),
		su.formProfile("expired", expired, good),
		su.formProfile("other-role", idp, good, "awskeep_saml_role_arn = arn:aws:iam::"+samltest.AccountID+":role/not-offered"),
		su.samlProfile("unreachable", "awskeep_saml_url = "+closedEndpoint(t)+"/login", "awskeep_saml_provider = form",
			"awskeep_saml_username = "+samlUserName, "awskeep_saml_password_source = "+good),
		su.samlProfile("no-response", "awskeep_saml_url = "+idp.BrokenURL, "awskeep_saml_provider = form",
			"awskeep_saml_username = "+samlUserName, "awskeep_saml_password_source = "+good),
		su.samlProfile("krb", "awskeep_saml_url = "+wia, "awskeep_saml_provider = kerberos"),
	)
	cases := []struct {
		name, profile string
		env           []string
		wants         []string
		after         func(t *testing.T)
	}{
		{name: "wrong IdP password (form)", profile: "wrong-form", wants: []string{"password"},
			after: func(t *testing.T) {
				if n := idp.FailedLogins(samlUserName); n != 1 {
					t.Fatalf("the IdP saw %d attempts with the wrong password, want exactly 1", n)
				}
			}},
		{name: "wrong IdP password (okta, from Conjur)", profile: "wrong-okta", env: conjurEnv(conjur), wants: []string{"okta", "password"},
			after: func(t *testing.T) {
				if n := idp.FailedLogins("okta-" + samlUserName); n != 1 {
					t.Fatalf("Okta saw %d attempts with the wrong password, want exactly 1", n)
				}
			}},
		{name: "expired assertion", profile: "expired", wants: []string{"expired"}},
		{name: "role not in the assertion", profile: "other-role", wants: []string{"role/not-offered", "not in the assertion", samlRole.RoleARN}},
		{name: "IdP unreachable", profile: "unreachable", wants: []string{"127.0.0.1", "check awskeep_saml_url"}},
		{name: "page without SAMLResponse", profile: "no-response", wants: []string{"SAMLResponse"}},
		{name: "KDC unreachable", profile: "krb", env: append(gone.Env(), "KRB5CCNAME=FILE:"+goneCC), wants: []string{"KDC"}},
		{name: "no Kerberos ticket", profile: "krb",
			env: append(live.Env(), "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "krb5cc_none")), wants: []string{"kinit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(su.sts.samlCalls())
			r := su.detachedSAML(awskeep, tc.env, "credential-process", "--profile", tc.profile)
			t.Logf("%s", strings.TrimSpace(r.stderr))
			mustFailClearly(t, r, tc.wants...)
			if tc.after != nil {
				tc.after(t)
			}
			// Expired, refused or not offered: nothing reached STS.
			if n := len(su.sts.samlCalls()) - before; n != 0 {
				t.Fatalf("STS saw %d AssumeRoleWithSAML calls", n)
			}
		})
	}
	su.checkSecrets(t)
}

// TestSAMLSecrets: at debug log level, for each kind of source, nothing secret (IdP
// password, Conjur API key, Kerberos password, the assertion STS received) is logged, and
// no file under the home holds one.
func TestSAMLSecrets(t *testing.T) {
	const (
		idpPassword = "secrets-Pw-e2e-77"
		krbPassword = "carol-Krb-pw-e2e"
		keyringPW   = "secrets-keyring-pw-e2e"
	)
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/okta/password": idpPassword}})
	kdc := krbtest.Start(t)
	kdc.AddUser(t, samlUserName, krbPassword)
	cc := kdc.Kinit(t, samlUserName, krbPassword)
	_, wia := kerberosIdP(t, kdc, samltest.Options{})

	needKeyringHelper(t)
	su := newSAMLUser(t, idpPassword, krbPassword, keyringPW, conjur.APIKey)
	keyringEnv := []string{"AWSKEEP_KEYRING_BACKEND=file", "AWSKEEP_KEYRING_PASSWORD=" + keyringPW}
	su.writeConfig(t,
		su.samlProfile("okta", "awskeep_saml_url = "+idp.OktaAppURL, "awskeep_saml_provider = okta",
			"awskeep_saml_username = "+samlUserName, "awskeep_saml_password_source = conjur:prod/okta/password"),
		su.formProfile("keyring", idp, "keyring:alice"),
		su.formProfile("file", idp, su.passwordFile(t, "idp-password", idpPassword)),
		su.samlProfile("krb", "awskeep_saml_url = "+wia, "awskeep_saml_provider = kerberos"),
	)
	// The keyring item is stored through the command on a terminal, as a user does.
	term := su.startTerminal(t, awskeep, keyringEnv, "saml", "store-password", "--profile", "keyring")
	term.waitFor("password for "+samlUserName+": ", promptTimeout)
	term.typeLine(idpPassword)
	term.waitFor("again: ", promptTimeout)
	term.typeLine(idpPassword)
	if code, out := term.wait(promptTimeout); code != 0 {
		t.Fatalf("store-password exited %d:\n%s", code, out)
	} else {
		su.rememberText(out)
	}

	for _, tc := range []struct {
		profile string
		env     []string
	}{
		{"okta", conjurEnv(conjur)},
		{"keyring", keyringEnv},
		{"file", nil},
		{"krb", append(kdc.Env(), "KRB5CCNAME=FILE:"+cc)},
	} {
		t.Run(tc.profile+" at debug level", func(t *testing.T) {
			before := len(su.sts.samlCalls())
			r := su.detachedSAML(awskeep, tc.env, "--debug", "credential-process", "--profile", tc.profile, "--no-cache")
			mustSucceed(t, r, "credential-process --debug --profile "+tc.profile)
			c := su.credentials(r.stdout)
			su.checkLog(t, r, c, "credential-process --debug --profile "+tc.profile)
			if got := len(su.sts.samlCalls()); got != before+1 {
				t.Fatalf("STS saw %d new AssumeRoleWithSAML calls, want 1", got-before)
			}
			// Through the AWS CLI, with AWSKEEP_LOG_LEVEL=debug reaching awskeep's stderr.
			cli := su.execSAML(awsCLIs(t)["v1"], append(tc.env, "AWSKEEP_LOG_LEVEL=debug"),
				"--profile", tc.profile, "sts", "get-caller-identity", "--output", "text")
			mustSucceed(t, cli, "aws --profile "+tc.profile+" with AWSKEEP_LOG_LEVEL=debug")
		})
	}
	su.checkSecrets(t)
}

// TestSAMLLoginPrompt: with awskeep_saml_password_source = prompt, awskeep login asks once
// on the terminal and fills the cache; credential-process then needs no terminal.
func TestSAMLLoginPrompt(t *testing.T) {
	const idpPassword = "prompt-Pw-e2e-12"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	su := newSAMLUser(t, idpPassword)
	su.writeConfig(t, su.formProfile("prompted", idp, "prompt"))
	want := assumedRole(roleName(samlRole.RoleARN), samlUserName)

	t.Run("no terminal before login", func(t *testing.T) {
		r, took := su.detached(awskeep, nil, "credential-process", "--profile", "prompted")
		su.remember(r)
		mustFailClearly(t, r, "awskeep_saml_password_source")
		if took > noTerminalLimit {
			t.Fatalf("credential-process took %v to fail without a terminal, want at most %v", took, noTerminalLimit)
		}
		su.sts.checkSAMLCalls(t, 0)
	})

	t.Run("login asks once", func(t *testing.T) {
		term := su.startTerminal(t, awskeep, nil, "login", "--profile", "prompted")
		term.waitFor("password for "+samlUserName, promptTimeout)
		term.typeLine(idpPassword)
		code, out := term.wait(promptTimeout)
		su.rememberText(out)
		if code != 0 {
			t.Fatalf("login exited %d; the terminal shows:\n%s", code, out)
		}
		if n := strings.Count(out, "password for "+samlUserName); n != 1 {
			t.Fatalf("the password was asked %d times:\n%s", n, out)
		}
		if strings.Contains(out, idpPassword) {
			t.Fatal("the password typed at login's prompt was echoed")
		}
		if !strings.Contains(out, "logged in: ASIA") {
			t.Fatalf("login does not say it logged in:\n%s", out)
		}
		su.sts.checkSAMLCalls(t, 1)
	})

	t.Run("credential-process from the cache, no prompt", func(t *testing.T) {
		c := su.credentialProcess(t, nil, "prompted")
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		if got := su.cliCallerARN(t, nil, "prompted"); got != want {
			t.Fatalf("aws sts get-caller-identity = %q, want %q", got, want)
		}
		su.sts.checkSAMLCalls(t, 1)
		if n := idp.FailedLogins(samlUserName); n != 0 {
			t.Fatalf("the IdP saw %d failed logins", n)
		}
	})

	su.checkSecrets(t)
}
