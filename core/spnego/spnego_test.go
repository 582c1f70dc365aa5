package spnego_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/krbtest"
	"github.com/awskeep/awskeep/core/spnego"
)

const alicePassword = "alice-password-7"

// idp is a test identity provider page that answers only to a valid Kerberos ticket.
type idp struct {
	URL  string
	mu   sync.Mutex
	seen []string // principals, one per authenticated request
}

func (p *idp) principals() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func startIdP(t *testing.T, k *krbtest.KDC, spn string) *idp {
	t.Helper()
	p := &idp{}
	srv := httptest.NewServer(k.Protect(t, spn, func(w http.ResponseWriter, r *http.Request, principal string) {
		p.mu.Lock()
		p.seen = append(p.seen, principal)
		p.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, principal+" "+string(body))
	}))
	t.Cleanup(srv.Close)
	p.URL = krbtest.Localhost(srv.URL)
	return p
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), nil
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestClientFromCCache(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	// KRB5_CONFIG is a list, and MIT Kerberos skips the files of it that do not exist.
	missing := filepath.Join(t.TempDir(), "no-krb5.conf")

	for _, tc := range []struct {
		name string
		opts spnego.Options
	}{
		{"options", spnego.Options{Krb5Conf: k.Krb5Conf, CCache: "FILE:" + cc}},
		{"environment", spnego.Options{Getenv: env(map[string]string{"KRB5_CONFIG": missing + ":" + k.Krb5Conf, "KRB5CCNAME": cc})}},
		{"explicit SPN", spnego.Options{Krb5Conf: k.Krb5Conf, CCache: "FILE:" + cc, SPN: "HTTP/localhost"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := spnego.Client(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			body, err := get(t, c, p.URL+"/adfs/ls/?SAMLRequest=x")
			if err != nil {
				t.Fatal(err)
			}
			if want := "alice@" + k.Realm + " "; body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
		})
	}
	if got := p.principals(); len(got) != 3 {
		t.Fatalf("server saw %v", got)
	}
}

func TestDirCCache(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	dir := t.TempDir()
	b, err := os.ReadFile(cc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tktAbc123"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "primary"), []byte("tktAbc123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"DIR:" + dir, "DIR::" + filepath.Join(dir, "tktAbc123")} {
		c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := get(t, c, p.URL); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestDefaultCCacheName: without KRB5CCNAME, krb5.conf's default_ccache_name decides, with
// MIT's parameter expansion.
func TestDefaultCCacheName(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	tmp := t.TempDir()
	b, _ := os.ReadFile(cc)
	if err := os.WriteFile(filepath.Join(tmp, "cc_"+strconv.Itoa(os.Getuid())), b, 0o600); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(k.Krb5Conf)
	conf = []byte(strings.Replace(string(conf), "[libdefaults]\n", "[libdefaults]\n\tdefault_ccache_name = FILE:%{TEMP}/cc_%{uid}\n", 1))
	confPath := filepath.Join(tmp, "krb5.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := spnego.Client(spnego.Options{Krb5Conf: confPath, Getenv: env(map[string]string{"TMPDIR": tmp})}); err != nil {
		t.Fatal(err)
	}
	// KEYRING: as the default (Fedora, RHEL) gets the hint to kinit into a file.
	conf = []byte(strings.Replace(string(conf), "FILE:%{TEMP}/cc_%{uid}", "KEYRING:persistent:%{uid}", 1))
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := spnego.Client(spnego.Options{Krb5Conf: confPath, Getenv: env(nil)})
	if !errors.Is(err, spnego.ErrUnsupportedCCache) || !strings.Contains(err.Error(), "KEYRING:persistent:"+strconv.Itoa(os.Getuid())) ||
		!strings.Contains(err.Error(), "default_ccache_name") {
		t.Fatalf("err = %v", err)
	}
}

func TestTicketErrors(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(garbage, []byte{5, 4, 0, 12, 1, 2}, 0o600)

	// A one-second ticket (MIT accepts kinit -l 1s), waited out.
	short := k.Kinit(t, "alice", alicePassword, "-l", "1s")
	time.Sleep(1100 * time.Millisecond)

	for _, tc := range []struct {
		name   string
		ccache string
		is     error
		text   []string
	}{
		{"missing", "FILE:" + filepath.Join(dir, "nothing"), spnego.ErrNoTicket, []string{"no Kerberos ticket", "run kinit"}},
		{"empty", empty, spnego.ErrNoTicket, []string{"no Kerberos ticket", "empty"}},
		{"corrupt", garbage, spnego.ErrNoTicket, []string{"no Kerberos ticket", "run kinit"}},
		{"expired", short, spnego.ErrTicketExpired, []string{"alice@" + k.Realm, "expired at", "run kinit"}},
		{"keyring", "KEYRING:persistent:1000", spnego.ErrUnsupportedCCache, []string{"KEYRING:persistent:1000", "kinit -c FILE:"}},
		{"kcm", "KCM:", spnego.ErrUnsupportedCCache, []string{"KCM:", "KRB5CCNAME=FILE:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: tc.ccache})
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
	var te *spnego.TicketError
	_, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: short})
	if !errors.As(err, &te) || te.Expired.IsZero() || time.Since(te.Expired) > time.Minute {
		t.Fatalf("expired: %#v", err)
	}
}

// TestExpiresWhileInUse: a client made while the ticket was valid reads the cache again
// when it expires, and says so when the cache still holds only the old ticket.
func TestExpiresWhileInUse(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, c, p.URL); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(11 * time.Hour) // max_life is 10h
	mu.Unlock()
	_, err = c.Get(p.URL + "/again")
	if !errors.Is(err, spnego.ErrTicketExpired) {
		t.Fatalf("err = %v", err)
	}
}

func TestKDCUnreachable(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	k.Stop()
	_, err = c.Get(p.URL)
	var ke *spnego.KDCError
	if !errors.Is(err, spnego.ErrKDCUnreachable) || !errors.As(err, &ke) {
		t.Fatalf("err = %v", err)
	}
	want := "cannot reach the KDC for " + k.Realm + " (" + k.Addr + " from " + k.Krb5Conf + ")"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q lacks %q", err, want)
	}
}

func TestWrongRealm(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	// A krb5.conf for another realm: the cache's realm has no KDC in it.
	other := filepath.Join(t.TempDir(), "krb5.conf")
	os.WriteFile(other, []byte("[libdefaults]\n\tdefault_realm = OTHER.TEST\n\tdns_lookup_kdc = false\n"+
		"[realms]\n\tOTHER.TEST = {\n\t\tkdc = 127.0.0.1:1\n\t}\n"), 0o644)
	_, err := spnego.Client(spnego.Options{Krb5Conf: other, CCache: cc})
	if !errors.Is(err, spnego.ErrKDCUnreachable) || !strings.Contains(err.Error(), "lists no kdc for it") || !strings.Contains(err.Error(), "under [realms]") ||
		!strings.Contains(err.Error(), k.Realm) {
		t.Fatalf("err = %v", err)
	}
	_, err = spnego.Client(spnego.Options{Krb5Conf: filepath.Join(t.TempDir(), "none.conf"), CCache: cc})
	if !errors.Is(err, spnego.ErrConfig) || !strings.Contains(err.Error(), "KRB5_CONFIG") {
		t.Fatalf("err = %v", err)
	}
}

func TestKeytabLogin(t *testing.T) {
	k := krbtest.Start(t)
	k.AddUser(t, "svc-saml", "unused-password-9")
	kt := k.UserKeytab(t, "svc-saml")
	p := startIdP(t, k, "HTTP/localhost")

	for _, principal := range []string{"svc-saml@" + k.Realm, "svc-saml", ""} {
		c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: kt, Principal: principal,
			Getenv: env(map[string]string{"KRB5CCNAME": "FILE:/nonexistent"})})
		if err != nil {
			t.Fatalf("principal %q: %v", principal, err)
		}
		body, err := get(t, c, p.URL)
		if err != nil {
			t.Fatal(err)
		}
		if body != "svc-saml@"+k.Realm+" " {
			t.Fatalf("body %q", body)
		}
	}

	_, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: kt, Principal: "alice"})
	if !errors.Is(err, spnego.ErrKeytab) || !strings.Contains(err.Error(), "no key for alice@"+k.Realm) {
		t.Fatalf("wrong principal: %v", err)
	}
	_, err = spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: filepath.Join(t.TempDir(), "none")})
	if !errors.Is(err, spnego.ErrKeytab) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing keytab: %v", err)
	}

	// A keytab login makes no goroutine that outlives it (gokrb5's Login would start a
	// renewal goroutine per client).
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		if _, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: kt}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines %d -> %d after 5 keytab logins", before, after)
	}

	k.Stop()
	_, err = spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: kt})
	if !errors.Is(err, spnego.ErrKDCUnreachable) || !strings.Contains(err.Error(), "from keytab") {
		t.Fatalf("KDC down: %v", err)
	}
}

// TestClientKeytabFromEnv: $KRB5_CLIENT_KTNAME (MIT's client keytab) is the keytab when
// Options.Keytab is empty, with or without FILE:, for Client and Principal alike; the ticket
// cache is not read. A keytab that is not there fails with ErrKeytab naming its path.
func TestClientKeytabFromEnv(t *testing.T) {
	k := krbtest.Start(t)
	k.AddUser(t, "svc-saml", "unused-password-9")
	kt := k.UserKeytab(t, "svc-saml")
	p := startIdP(t, k, "HTTP/localhost")
	noCache := "FILE:" + filepath.Join(t.TempDir(), "krb5cc_none")

	for _, name := range []string{kt, "FILE:" + kt} {
		for _, principal := range []string{"", "svc-saml", "svc-saml@" + k.Realm} {
			opts := spnego.Options{Krb5Conf: k.Krb5Conf, Principal: principal,
				Getenv: env(map[string]string{"KRB5CCNAME": noCache, "KRB5_CLIENT_KTNAME": name})}
			if got, err := spnego.Principal(opts); err != nil || got != "svc-saml@"+k.Realm {
				t.Fatalf("KRB5_CLIENT_KTNAME=%s, principal %q: Principal = %q, %v", name, principal, got, err)
			}
			c, err := spnego.Client(opts)
			if err != nil {
				t.Fatalf("KRB5_CLIENT_KTNAME=%s, principal %q: %v", name, principal, err)
			}
			if body, err := get(t, c, p.URL); err != nil || body != "svc-saml@"+k.Realm+" " {
				t.Fatalf("body %q, %v", body, err)
			}
		}
	}

	missing := filepath.Join(t.TempDir(), "client.keytab")
	opts := spnego.Options{Krb5Conf: k.Krb5Conf, Getenv: env(map[string]string{"KRB5CCNAME": noCache, "KRB5_CLIENT_KTNAME": missing})}
	_, err := spnego.Client(opts)
	if !errors.Is(err, spnego.ErrKeytab) || !strings.Contains(err.Error(), missing+" (from KRB5_CLIENT_KTNAME): ") ||
		!strings.Contains(err.Error(), "unset KRB5_CLIENT_KTNAME to use the ticket cache from kinit") || strings.Contains(err.Error(), " for :") {
		t.Fatalf("missing client keytab: %v", err)
	}
	if _, err := spnego.Principal(opts); !errors.Is(err, spnego.ErrKeytab) {
		t.Fatalf("Principal with a missing client keytab: %v", err)
	}
	// The principal asked for must be in the keytab.
	opts = spnego.Options{Krb5Conf: k.Krb5Conf, Principal: "alice", Getenv: env(map[string]string{"KRB5_CLIENT_KTNAME": kt})}
	if _, err := spnego.Principal(opts); !errors.Is(err, spnego.ErrKeytab) || !strings.Contains(err.Error(), "no key for alice@"+k.Realm) {
		t.Fatalf("Principal of another user: %v", err)
	}
}

func TestKeytabWrongKey(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "svc-saml", "unused-password-9")
	// A keytab with the same name and realm from another KDC: a stale key, as after a
	// password reset.
	otherKDC := krbtest.Start(t)
	otherKDC.AddUser(t, "svc-saml", "another-password")
	stale := otherKDC.UserKeytab(t, "svc-saml")

	_, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: stale})
	if !errors.Is(err, spnego.ErrKeytab) || !strings.Contains(err.Error(), "make a new keytab") {
		t.Fatalf("without pre-authentication: %v", err)
	}
	// With pre-authentication required (as Active Directory does) the KDC refuses.
	k.Kadmin(t, "modprinc +requires_preauth svc-saml")
	_, err = spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, Keytab: stale})
	if !errors.Is(err, spnego.ErrKDCRefused) || !strings.Contains(err.Error(), "refused to log in svc-saml@"+k.Realm) {
		t.Fatalf("with pre-authentication: %v", err)
	}
}

func TestUnknownSPN(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc, SPN: "HTTP/idp.nowhere.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(p.URL)
	if !errors.Is(err, spnego.ErrKDCRefused) || !strings.Contains(err.Error(), "HTTP/idp.nowhere.test") {
		t.Fatalf("err = %v", err)
	}
}

// TestRejected: the server cannot decrypt the ticket (its keytab is for another principal).
func TestRejected(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	k.ServiceKeytab(t, "HTTP/localhost")
	p := startIdP(t, k, "HTTP/other.test")
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(p.URL + "/login?secret=relaystate")
	var re *spnego.RejectedError
	if !errors.As(err, &re) || !errors.Is(err, spnego.ErrRejected) {
		t.Fatalf("err = %v", err)
	}
	if re.SPN != "HTTP/localhost" || re.Principal != "alice@"+k.Realm || re.StatusCode != 401 {
		t.Fatalf("rejected = %+v", re)
	}
	if strings.Contains(re.Error(), "relaystate") {
		t.Fatalf("error carries the query: %v", re)
	}
}

// TestOnlyWhenAsked: a server that does not ask for Negotiate never sees a token, and other
// answers pass through unchanged.
func TestOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	var auth []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/basic" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "public")
	}))
	defer srv.Close()
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/basic"} {
		resp, err := c.Get(krbtest.Localhost(srv.URL) + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(auth) != 2 || auth[0] != "" || auth[1] != "" {
		t.Fatalf("Authorization headers %q", auth)
	}
}

func TestPostBody(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(p.URL, "application/x-www-form-urlencoded", strings.NewReader("RelayState=abc"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "alice@"+k.Realm+" RelayState=abc" {
		t.Fatalf("body %q", b)
	}
	// A body that cannot be read twice: a clear error, not a silently empty retry.
	req, _ := http.NewRequest(http.MethodPost, p.URL, io.NopCloser(strings.NewReader("x=1")))
	_, err = c.Do(req)
	if !errors.Is(err, spnego.ErrBodyNotReplayable) {
		t.Fatalf("err = %v", err)
	}
}

// TestRedirect: an IdP that redirects to its Kerberos-protected login page; the cookie jar
// carries the session on.
func TestRedirect(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	protected := k.Protect(t, "HTTP/localhost", func(w http.ResponseWriter, r *http.Request, principal string) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-" + principal, Path: "/"})
		http.Redirect(w, r, "/done", http.StatusFound)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/kerberos", http.StatusFound) })
	mux.Handle("/kerberos", protected)
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		io.WriteString(w, c.Value)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	body, err := get(t, c, krbtest.Localhost(srv.URL)+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if body != "s-alice@"+k.Realm {
		t.Fatalf("body %q", body)
	}
}

// TestConcurrent: one client, many goroutines (go test -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	k := krbtest.Start(t)
	k.AddUser(t, "alice", alicePassword)
	cc := k.Kinit(t, "alice", alicePassword)
	p := startIdP(t, k, "HTTP/localhost")
	c, err := spnego.Client(spnego.Options{Krb5Conf: k.Krb5Conf, CCache: cc})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(p.URL)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- errors.New(resp.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(p.principals()); n != 16 {
		t.Fatalf("server authenticated %d requests, want 16", n)
	}
}

func TestPrincipal(t *testing.T) {
	kdc := krbtest.Start(t)
	kdc.AddUser(t, "alice", "alice-password-1")
	kdc.AddUser(t, "bob", "bob-password-1")
	ccache := kdc.Kinit(t, "alice", "alice-password-1")
	opts := spnego.Options{Krb5Conf: kdc.Krb5Conf, CCache: ccache}
	if got, err := spnego.Principal(opts); err != nil || got != "alice@"+kdc.Realm {
		t.Fatalf("Principal = %q, %v; want alice@%s", got, err, kdc.Realm)
	}
	bobs := kdc.Kinit(t, "bob", "bob-password-1")
	opts.CCache = bobs
	if got, err := spnego.Principal(opts); err != nil || got != "bob@"+kdc.Realm {
		t.Fatalf("Principal after kinit bob = %q, %v", got, err)
	}
	opts.CCache = filepath.Join(t.TempDir(), "none")
	if _, err := spnego.Principal(opts); !errors.Is(err, spnego.ErrNoTicket) {
		t.Fatalf("Principal without a cache: %v, want ErrNoTicket", err)
	}
}
