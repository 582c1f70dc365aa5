package doctor

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/krbtest"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/secretsource"
	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// The SAML checks against real parts: a samltest IdP, the awskeep-keyring helper with its
// file backend, a conjurtest Conjur and an MIT KDC (krbtest).

const (
	idpPassword     = "doctor-IdP-Pw-not-shown"
	keyringPassword = "doctor-keyring-Pw-not-shown"
)

// samlProfile writes [profile p], a SAML profile for alice at url with provider and the
// settings in lines, and returns the results of doctor for it.
func (w *world) samlDoctor(t *testing.T, url, provider string, lines ...string) []Result {
	t.Helper()
	w.writeConfig("[profile p]\nawskeep_source = saml\nregion = eu-west-1\n" +
		"awskeep_saml_url = " + url + "\nawskeep_saml_provider = " + provider + "\n" +
		strings.Join(lines, "\n") + "\n")
	return Run(context.Background(), w.input("p", engine.Settings{}))
}

// formLines are the settings of a form login for alice with the given password source.
func formLines(passwordSource string) []string {
	return []string{"awskeep_saml_username = alice", "awskeep_saml_password_source = " + passwordSource}
}

// secretFile writes content into a file of the given mode under w's home.
func (w *world) secretFile(name, content string, mode os.FileMode) string {
	w.t.Helper()
	path := filepath.Join(w.home, name)
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// noSecrets fails the test if a result shows one of secrets.
func noSecrets(t *testing.T, results []Result, secrets ...string) {
	t.Helper()
	for _, r := range results {
		for _, s := range secrets {
			if s != "" && (strings.Contains(r.Detail, s) || strings.Contains(r.Fix, s)) {
				t.Errorf("%s shows a secret: %s — fix: %s", r.Name, r.Detail, r.Fix)
			}
		}
	}
}

func TestSAMLOrderAndSummary(t *testing.T) {
	w := newWorld(t)
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": idpPassword}})
	pw := w.secretFile("idp-password", idpPassword, 0o600)
	results := w.samlDoctor(t, idp.LoginURL+"?ref=x", "form", append(formLines("file:"+pw), "awskeep_saml_role_arn = "+samltest.DefaultRole.RoleARN)...)
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
	}
	if got, wantNames := strings.Join(names, " "), "config settings idp password kerberos sts clock cache"; got != wantNames {
		t.Fatalf("checks %q, want %q", got, wantNames)
	}
	want(t, results, CheckSettings, OK, "SAML form at "+idp.LoginURL+" as alice", "password from file:"+pw, "role "+samltest.DefaultRole.RoleARN)
	if r := byName(t, results, CheckSettings); strings.Contains(r.Detail, "ref=x") {
		t.Errorf("the summary shows the URL's query: %s", r.Detail)
	}
	want(t, results, CheckIdP, OK, idp.URL+" answers HTTP ", "no login")
	want(t, results, CheckPassword, OK, pw+" is a regular file of yours, mode 0600 (not read)")
	want(t, results, CheckKerberos, Skip, "awskeep_saml_provider is form")
	want(t, results, CheckSTS, OK)
	if n := Failed(results); n != 0 {
		t.Fatalf("%d failed: %v", n, results)
	}
	if n := idp.FailedLogins("alice"); n != 0 {
		t.Fatalf("the IdP saw %d logins", n)
	}
	noSecrets(t, results, idpPassword)
}

func TestSAMLSettingsFail(t *testing.T) {
	w := newWorld(t)
	// A broken SAML profile still gets the SAML checks, skipped.
	results := w.samlDoctor(t, "https://idp.example.com/app", "form", "awskeep_saml_username = alice",
		"awskeep_saml_password_source = prompt", "awskeep_conjur_url = https://conjur.example.com")
	want(t, results, CheckSettings, Fail, "(awskeep_conjur_url): the awskeep_conjur_* settings apply only to awskeep_saml_password_source = conjur:VARIABLE")
	for _, name := range []string{CheckIdP, CheckPassword, CheckKerberos} {
		want(t, results, name, Skip, "needs the settings")
	}
}

func TestSAMLIdP(t *testing.T) {
	closed := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/app"
	}
	silent := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Add(1)
		go func() { // accept and say nothing
			defer wg.Done()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := l.Accept()
				if err != nil {
					<-done
					return
				}
				conns = append(conns, c)
			}
		}()
		t.Cleanup(func() { close(done); l.Close(); wg.Wait() })
		return "http://" + l.Addr().String() + "/app"
	}
	untrusted := func(t *testing.T) string {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL + "/app"
	}
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration
		status  Status
		says    []string
	}{
		{name: "nothing listens", url: closed, status: Fail, says: []string{"nothing answers at http://127.0.0.1:", "connection refused", "check the host and port in awskeep_saml_url"}},
		{name: "host does not resolve", url: func(*testing.T) string { return "https://idp.awskeep.invalid/app" }, status: Fail,
			says: []string{"the IdP host idp.awskeep.invalid", "does not resolve", "DNS or the VPN"}},
		{name: "no answer in time", url: silent, timeout: 300 * time.Millisecond, status: Fail, says: []string{"did not answer within 300ms", "port "}},
		{name: "certificate from an unknown CA", url: untrusted, status: Fail, says: []string{"does not verify", "set ca_bundle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.writeConfig("[profile p]\nawskeep_source = saml\nawskeep_saml_url = " + tt.url(t) + "\nawskeep_saml_provider = kerberos\n")
			in := w.input("p", engine.Settings{})
			if tt.timeout > 0 {
				in.Timeout = tt.timeout
			}
			start := time.Now()
			results := Run(context.Background(), in)
			want(t, results, CheckIdP, tt.status, tt.says...)
			if tt.timeout > 0 && time.Since(start) > 10*tt.timeout+5*time.Second {
				t.Errorf("doctor took %v with --timeout %v", time.Since(start), tt.timeout)
			}
		})
	}
}

// keyringHelper builds awskeep-keyring once, for the keyring checks; awskeep finds it on
// $PATH (the test binary has no helper next to it).
var keyringHelper = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "doctor-keyring")
	if err != nil {
		return "", err
	}
	out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/awskeep/awskeep/core/cmd/awskeep-keyring").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build awskeep-keyring (in the go.work workspace): %v\n%s", err, out)
	}
	return dir, nil
})

func TestSAMLPassword(t *testing.T) {
	helperDir, err := keyringHelper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(helperDir) })
	t.Setenv("PATH", helperDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": idpPassword}})
	conjur := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"prod/idp/password": idpPassword}})

	tests := []struct {
		name   string
		setup  func(w *world) []string // the profile's password settings
		status Status
		says   []string
	}{
		{name: "file open to others", status: Fail,
			setup: func(w *world) []string {
				return formLines("file:" + w.secretFile("idp-password", idpPassword, 0o644))
			},
			says: []string{"is open to other users (mode 0644)", "chmod 600"}},
		{name: "file missing", status: Fail,
			setup: func(w *world) []string { return formLines("file:" + filepath.Join(w.home, "none")) },
			says:  []string{"none does not exist", "write the password as the first line of the file"}},
		{name: "keyring item missing", status: Fail,
			setup: func(w *world) []string { return formLines("keyring:idp-alice") },
			says:  []string{`no item "idp-alice" in the keyring files`, "store it with awskeep saml store-password --profile p"}},
		{name: "keyring item stored", status: OK,
			setup: func(w *world) []string {
				opts := secretsource.Options{Getenv: func(k string) string { return w.env[k] }}
				if err := secretsource.Store(context.Background(), "idp-alice", idpPassword, opts); err != nil {
					t.Fatal(err)
				}
				return formLines("keyring:idp-alice")
			},
			says: []string{"keyring:idp-alice: the keyring helper " + filepath.Join(helperDir, "awskeep-keyring") + " is trusted", "read and discarded"}},
		{name: "conjur from the environment", status: OK,
			setup: func(w *world) []string {
				for k, v := range conjur.Env() {
					w.env[k] = v
				}
				return formLines("conjur:prod/idp/password")
			},
			says: []string{"Conjur at " + conjur.URL + " accepted the login", "URL from $CONJUR_APPLIANCE_URL", "not read"}},
		{name: "conjur from the profile, API key file open to others", status: Fail,
			setup: func(w *world) []string {
				key := w.secretFile("conjur-key", conjur.APIKey, 0o640)
				return append(formLines("conjur:prod/idp/password"), "awskeep_conjur_url = "+conjur.URL,
					"awskeep_conjur_account = "+conjur.Account, "awskeep_conjur_login = "+conjur.Login,
					"awskeep_conjur_api_key_source = file:"+key)
			},
			says: []string{"read the Conjur API key (", "(awskeep_conjur_api_key_source)", "is open to other users (mode 0640)", "chown, chmod 600"}},
		{name: "conjur refuses the key", status: Fail,
			setup: func(w *world) []string {
				for k, v := range conjur.Env() {
					w.env[k] = v
				}
				w.env[secretsource.EnvConjurAuthnAPIKey] = "wrong-Conjur-key"
				return formLines("conjur:prod/idp/password")
			},
			says: []string{"Conjur refused the login", "check the Conjur login (awskeep_conjur_login or $CONJUR_AUTHN_LOGIN)"}},
		{name: "conjur not configured", status: Fail,
			setup: func(w *world) []string { return formLines("conjur:prod/idp/password") },
			says:  []string{"no Conjur URL: set $CONJUR_APPLIANCE_URL or awskeep_conjur_url in the profile", "the awskeep_conjur_* settings"}},
		{name: "prompt without a terminal", status: OK,
			setup: func(w *world) []string { return formLines("prompt") },
			says:  []string{"prompt: asked on the terminal, and there is none here", "run awskeep login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.env[secretsource.EnvKeyringBackend] = secretsource.BackendFile
			w.env[secretsource.EnvKeyringPassword] = keyringPassword
			reads := conjur.Retrievals()
			results := w.samlDoctor(t, idp.LoginURL, "form", tt.setup(w)...)
			want(t, results, CheckPassword, tt.status, tt.says...)
			want(t, results, CheckKerberos, Skip, "no Kerberos")
			if n := conjur.Retrievals() - reads; n != 0 {
				t.Errorf("doctor read %d Conjur variables", n)
			}
			if n := idp.FailedLogins("alice"); n != 0 {
				t.Errorf("the IdP saw %d logins", n)
			}
			noSecrets(t, results, idpPassword, conjur.APIKey, keyringPassword, "wrong-Conjur-key")
		})
	}
}

func TestSAMLKerberos(t *testing.T) {
	kdc := krbtest.Start(t)
	kdc.AddUser(t, "bob", "bob-Krb-pw-not-shown")
	kdc.ServiceKeytab(t, "HTTP/localhost")
	cc := kdc.Kinit(t, "bob", "bob-Krb-pw-not-shown")
	// The IdP: any request with a Negotiate token would be a login attempt.
	var mu sync.Mutex
	negotiated := 0
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Negotiate") {
			mu.Lock()
			negotiated++
			mu.Unlock()
		}
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(idp.Close)
	wia := krbtest.Localhost(idp.URL) + "/wia"

	stopped := krbtest.Start(t)
	stopped.AddUser(t, "carol", "carol-Krb-pw-not-shown")
	stoppedCC := stopped.Kinit(t, "carol", "carol-Krb-pw-not-shown")
	stopped.Stop()

	tests := []struct {
		name     string
		krb5Conf string
		ccache   string
		url      string
		status   Status
		says     []string
	}{
		{name: "ticket and KDC", krb5Conf: kdc.Krb5Conf, ccache: "FILE:" + cc, url: wia, status: OK,
			says: []string{"unexpired ticket-granting ticket of bob@" + kdc.Realm, "issued a ticket for HTTP/localhost", "not to the IdP"}},
		{name: "no ticket", krb5Conf: kdc.Krb5Conf, ccache: "FILE:" + filepath.Join(t.TempDir(), "krb5cc_none"), url: wia, status: Fail,
			says: []string{"no Kerberos ticket in FILE:", "run kinit"}},
		{name: "KDC unreachable", krb5Conf: stopped.Krb5Conf, ccache: "FILE:" + stoppedCC, url: wia, status: Fail,
			says: []string{"cannot reach the KDC for " + stopped.Realm, "check that the KDCs krb5.conf lists"}},
		{name: "no principal for the IdP", krb5Conf: kdc.Krb5Conf, ccache: "FILE:" + cc,
			url: strings.Replace(wia, "//localhost:", "//idp.localhost:", 1), status: Fail,
			says: []string{"refused to get a ticket for HTTP/idp.localhost", "whether HTTP/idp.localhost exists"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.env["KRB5_CONFIG"], w.env["KRB5CCNAME"] = tt.krb5Conf, tt.ccache
			w.writeConfig("[profile p]\nawskeep_source = saml\nawskeep_saml_url = " + tt.url + "\nawskeep_saml_provider = kerberos\n")
			results := Run(context.Background(), w.input("p", engine.Settings{}))
			want(t, results, CheckKerberos, tt.status, tt.says...)
			want(t, results, CheckPassword, Skip, "kerberos logs in with the ticket from kinit")
			mu.Lock()
			n := negotiated
			mu.Unlock()
			if n != 0 {
				t.Fatalf("the IdP got %d Negotiate tokens from doctor", n)
			}
			noSecrets(t, results, "bob-Krb-pw-not-shown", "carol-Krb-pw-not-shown")
		})
	}
}
