package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/krbtest"
	"github.com/awskeep/awskeep/core/samltest"
)

// The sinks the other SAML tests leave out (exec and serve), and Kerberos from a client
// keytab ($KRB5_CLIENT_KTNAME) instead of kinit's ticket cache.

// checkExecServe checks that profile's credentials work through awskeep exec (the AWS CLI
// v1 as the child) and awskeep serve (its ECS endpoint read directly and by the AWS CLI v1),
// as want's session. env is what a login needs; logins is 1 when the cache is empty (exec
// logs in, serve uses what exec cached), 0 when it holds the profile's credentials.
func (su *samlUser) checkExecServe(t *testing.T, profile string, env []string, want string, logins int) {
	t.Helper()
	before := len(su.sts.samlCalls())

	t.Run("exec", func(t *testing.T) {
		r := su.runSAML(append(append([]string{}, env...), "AWS_ENDPOINT_URL="+world.server.URL), "exec", "--profile", profile, "--",
			awsCLIs(t)["v1"], "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		mustSucceed(t, r, "exec --profile "+profile+" -- aws sts get-caller-identity")
		if got := strings.TrimSpace(r.stdout); got != want {
			t.Fatalf("aws sts get-caller-identity under exec = %q, want %q", got, want)
		}
		su.sts.checkSAMLCalls(t, before+logins)
	})

	t.Run("serve", func(t *testing.T) {
		s := su.startServe(t, env, nil, "--profile", profile)
		c, err := fetchServed(http.DefaultClient, s.url(), s.token())
		if err != nil {
			t.Fatal(err)
		}
		su.user.remember(c)
		su.tokens = append(su.tokens, c.SecretAccessKey, c.Token)
		if got := callerARN(t, creds.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token}); got != want {
			t.Fatalf("caller of the served credentials = %q, want %q", got, want)
		}
		r := su.execSAML(awsCLIs(t)["v1"], s.ecsEnv(su.user), "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		mustSucceed(t, r, "aws sts get-caller-identity from serve's endpoint")
		if got := strings.TrimSpace(r.stdout); got != want {
			t.Fatalf("aws sts get-caller-identity from serve = %q, want %q", got, want)
		}
		s.stop(syscall.SIGTERM)
		su.rememberText(s.stdout.String() + s.stderr.String())
		// serve took the cached credentials: no new login.
		su.sts.checkSAMLCalls(t, before+logins)
	})
}

// TestSAMLFormExecServe: a form login with the password in a 0600 file, through exec and
// serve.
func TestSAMLFormExecServe(t *testing.T) {
	const idpPassword = "exec-serve-Pw-e2e"
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{samlUserName: idpPassword}})
	su := newSAMLUser(t, idpPassword)
	su.writeConfig(t, su.formProfile("form", idp, su.passwordFile(t, "idp-password", idpPassword)))
	su.checkExecServe(t, "form", nil, assumedRole(roleName(samlRole.RoleARN), samlUserName), 1)
	if n := idp.FailedLogins(samlUserName); n != 0 {
		t.Fatalf("the IdP saw %d failed logins", n)
	}
	su.checkSecrets(t)
}

// keytabSecrets are the keys of a keytab as they would show if printed or copied: raw, in
// hex and in base64.
func keytabSecrets(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, v := range krbtest.KeytabKeys(t, path) {
		out = append(out, string(v), hex.EncodeToString(v), base64.StdEncoding.EncodeToString(v))
	}
	return out
}

// TestSAMLKerberosKeytab: a service account that logs in to the SPNEGO IdP from a client
// keytab ($KRB5_CLIENT_KTNAME, as MIT Kerberos reads it) with no ticket cache at all, its
// principal named by awskeep_saml_username; used by the AWS CLI v1, boto3, export, update
// (checkSinks), exec and serve. No key of the keytab appears in any output or file; a
// keytab that is not there fails in one line naming it.
func TestSAMLKerberosKeytab(t *testing.T) {
	const (
		svc         = "svc-deploy"
		krbPassword = "svc-Krb-pw-e2e-4"
	)
	kdc := krbtest.Start(t)
	kdc.AddUser(t, svc, krbPassword)
	kt := kdc.UserKeytab(t, svc) // in the KDC's directory, outside the user's home
	_, wia := kerberosIdP(t, kdc, samltest.Options{})
	su := newSAMLUser(t, append([]string{krbPassword}, keytabSecrets(t, kt)...)...)
	su.writeConfig(t,
		su.samlProfile("keytab", "awskeep_saml_url = "+wia, "awskeep_saml_provider = kerberos",
			"awskeep_saml_username = "+svc+"@"+kdc.Realm),
		su.samlProfile("no-keytab", "awskeep_saml_url = "+wia, "awskeep_saml_provider = kerberos"),
	)
	noCache := "KRB5CCNAME=FILE:" + filepath.Join(t.TempDir(), "krb5cc_none")
	env := append(kdc.Env(), noCache, "KRB5_CLIENT_KTNAME=FILE:"+kt)
	want := assumedRole(roleName(samlRole.RoleARN), svc)

	t.Run("keytab missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "client.keytab")
		r := su.detachedSAML(awskeep, append(kdc.Env(), noCache, "KRB5_CLIENT_KTNAME="+missing), "credential-process", "--profile", "no-keytab")
		t.Logf("%s", strings.TrimSpace(r.stderr))
		mustFailClearly(t, r, missing, "KRB5_CLIENT_KTNAME", "kinit")
		su.sts.checkSAMLCalls(t, 0)
	})

	su.checkSinks(t, samlSinks{
		profile: "keytab",
		session: svc,
		env:     env,
		// The cache entry is the keytab's principal, read from the keytab: no KDC needed.
		cacheEnv: []string{noCache, "KRB5_CLIENT_KTNAME=FILE:" + kt},
		logins: func(t *testing.T, n int) {
			if n > 0 && !strings.Contains(kdc.Log(), svc+"@"+kdc.Realm) {
				t.Fatalf("the KDC issued no ticket to %s:\n%s", svc, kdc.Log())
			}
		},
	})
	su.checkExecServe(t, "keytab", env, want, 0) // update left the credentials in the cache
	su.checkSecrets(t, su.credentialsPath())
}

// TestSAMLLogsInWhenNeeded: credential-process logs in again only when the cache cannot
// answer. An IdP whose assertions allow 15 minutes (SessionDuration 900, STS's least) gives
// credentials that are already too close to expiry for the cache (which keeps those with
// more than 15 minutes left), so each run logs in; an IdP allowing an hour gives
// credentials that the next run takes from the cache.
func TestSAMLLogsInWhenNeeded(t *testing.T) {
	const idpPassword = "when-needed-Pw-e2e"
	users := map[string]string{samlUserName: idpPassword}
	short := samltest.Start(t, samltest.Options{Users: users, SessionDuration: 15 * time.Minute})
	hour := samltest.Start(t, samltest.Options{Users: users, SessionDuration: time.Hour})
	su := newSAMLUser(t, idpPassword)
	pw := su.passwordFile(t, "idp-password", idpPassword)
	su.writeConfig(t, su.formProfile("short", short, pw), su.formProfile("hour", hour, pw))
	want := assumedRole(roleName(samlRole.RoleARN), samlUserName)

	for i := 1; i <= 2; i++ {
		c := su.credentialProcess(t, nil, "short")
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		if left := time.Until(c.Expiration); left > 15*time.Minute {
			t.Fatalf("credentials of a 15-minute assertion live %v", left)
		}
		su.sts.checkSAMLCalls(t, i)
	}
	for range 2 {
		c := su.credentialProcess(t, nil, "hour")
		if got := callerARN(t, c); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		su.sts.checkSAMLCalls(t, 3)
	}
	su.checkSecrets(t)
}
