// Package krbtest runs Debian's MIT Kerberos KDC (krb5kdc 1.20) unprivileged in a temporary
// directory, with a throwaway realm, for the tests of awskeep's Kerberos/SPNEGO login
// (core/spnego and the SAML source). It creates users and service principals, exports
// keytabs, runs MIT kinit into a FILE: ticket cache, and protects test HTTP handlers with
// SPNEGO (RFC 4559) so that a test IdP answers only to a valid Kerberos ticket.
//
// The KDC listens on TCP only, on a free port of 127.0.0.1; the generated krb5.conf sets
// udp_preference_limit = 1 so that MIT tools and gokrb5 use TCP. When krb5kdc, kdb5_util or
// kadmin.local are missing, Start fails the test with the apt-get command that installs them.
package krbtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultRealm is the realm Start creates.
const DefaultRealm = "AWSKEEP.TEST"

// Install is the command that installs the MIT Kerberos programs the helper runs.
const Install = "apt-get install -y krb5-kdc krb5-admin-server krb5-user"

// KDC is a running MIT KDC with its own realm, database and configuration in Dir.
type KDC struct {
	// Realm is the Kerberos realm, DefaultRealm.
	Realm string
	// Dir is the temporary directory holding the database, configuration, logs, keytabs
	// and ticket caches.
	Dir string
	// Krb5Conf is the path of the client configuration (KRB5_CONFIG): the realm's KDC at
	// Addr over TCP, and localhost mapped to the realm.
	Krb5Conf string
	// Addr is the KDC's TCP address, 127.0.0.1:PORT.
	Addr string

	kdcConf string // KRB5_KDC_PROFILE
	log     string
	cmd     *exec.Cmd
	exited  chan struct{}
	stop    sync.Once

	mu      sync.Mutex
	keytabs map[string]string // principal -> keytab path, so a key is randomised once
	caches  int
}

// Start creates a realm in a temporary directory, starts krb5kdc on a free 127.0.0.1 TCP
// port and stops it (by pid) when the test ends. A missing program fails the test with the
// command that installs it.
func Start(t testing.TB) *KDC {
	t.Helper()
	for _, prog := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		if _, err := lookPath(prog); err != nil {
			t.Fatalf("krbtest: %v: install MIT Kerberos with: %s", err, Install)
		}
	}
	k := &KDC{Realm: DefaultRealm, Dir: t.TempDir(), keytabs: map[string]string{}}
	k.Krb5Conf = filepath.Join(k.Dir, "krb5.conf")
	k.kdcConf = filepath.Join(k.Dir, "kdc.conf")
	k.log = filepath.Join(k.Dir, "krb5kdc.log")
	// The free port may be taken between our probe and krb5kdc's bind: try a few.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = k.start(); err == nil {
			t.Cleanup(k.Stop)
			return k
		}
	}
	t.Fatalf("krbtest: %v", err)
	return nil
}

func (k *KDC) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	k.Addr = "127.0.0.1:" + strconv.Itoa(port)
	if err := k.writeConfig(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(k.Dir, "principal")); err != nil {
		// -s writes the stash file, so the KDC starts without asking for the master password.
		if out, err := k.run(nil, "kdb5_util", "-r", k.Realm, "create", "-s", "-P", randomPassword()); err != nil {
			return fmt.Errorf("kdb5_util create: %v: %s", err, out)
		}
	}
	bin, _ := lookPath("krb5kdc")
	logFile, err := os.Create(filepath.Join(k.Dir, "krb5kdc.out"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-n", "-r", k.Realm)
	cmd.Env = k.environ()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start krb5kdc: %w", err)
	}
	k.cmd, k.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(k.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-k.exited:
			return fmt.Errorf("krb5kdc exited at start: %s", k.logs())
		default:
		}
		// "commencing operation" follows the binds, so a port some other process took in the
		// meantime is not mistaken for ours.
		if strings.Contains(k.Log(), "commencing operation") {
			if c, err := net.DialTimeout("tcp", k.Addr, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.kill()
	return fmt.Errorf("krb5kdc did not listen on %s within 10s: %s", k.Addr, k.logs())
}

func (k *KDC) writeConfig() error {
	// udp_preference_limit = 1: always TCP (the KDC listens on no UDP port). Name
	// canonicalisation off, so the SPN of http://localhost:PORT is HTTP/localhost.
	krb5 := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	udp_preference_limit = 1
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	ignore_acceptor_hostname = false

[realms]
	%[1]s = {
		kdc = %[2]s
		admin_server = %[2]s
	}

[domain_realm]
	localhost = %[1]s
	.localhost = %[1]s
`, k.Realm, k.Addr)
	kdc := fmt.Sprintf(`[kdcdefaults]
	kdc_listen = ""
	kdc_tcp_listen = %[2]s

[realms]
	%[1]s = {
		database_name = %[3]s/principal
		key_stash_file = %[3]s/stash
		acl_file = %[3]s/kadm5.acl
		max_life = 10h
		max_renewable_life = 7d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = FILE:%[4]s
	admin_server = FILE:%[3]s/kadmin.log
	default = FILE:%[3]s/krb5lib.log
`, k.Realm, k.Addr, k.Dir, k.log)
	if err := os.WriteFile(k.Krb5Conf, []byte(krb5), 0o644); err != nil {
		return err
	}
	return os.WriteFile(k.kdcConf, []byte(kdc), 0o644)
}

// Env returns the environment variables that point MIT programs and gokrb5 at this realm:
// KRB5_CONFIG and KRB5_KDC_PROFILE. Append them to os.Environ() for a subprocess.
func (k *KDC) Env() []string {
	return []string{"KRB5_CONFIG=" + k.Krb5Conf, "KRB5_KDC_PROFILE=" + k.kdcConf}
}

func (k *KDC) environ() []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5_CONFIG=") && !strings.HasPrefix(kv, "KRB5_KDC_PROFILE=") &&
			!strings.HasPrefix(kv, "KRB5CCNAME=") && !strings.HasPrefix(kv, "KRB5_KTNAME=") {
			env = append(env, kv)
		}
	}
	return append(env, k.Env()...)
}

// Stop ends the KDC (its process group, by pid) and waits for it. Start calls it at cleanup;
// a test may call it earlier to make the KDC unreachable.
func (k *KDC) Stop() {
	k.stop.Do(k.kill)
}

func (k *KDC) kill() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-k.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
		<-k.exited
	}
}

// Log returns the KDC's log so far (one line per AS and TGS request).
func (k *KDC) Log() string {
	b, _ := os.ReadFile(k.log)
	return string(b)
}

func (k *KDC) logs() string {
	out, _ := os.ReadFile(filepath.Join(k.Dir, "krb5kdc.out"))
	return strings.TrimSpace(string(out) + "\n" + k.Log())
}

// principalName is what the helper passes to kadmin: no spaces, quotes or options.
var principalName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

func (k *KDC) checkName(t testing.TB, name string) {
	t.Helper()
	if !principalName.MatchString(name) {
		t.Fatalf("krbtest: principal name %q: use letters, digits and . _ / - only (without @REALM)", name)
	}
}

// AddUser creates the principal name@Realm with password.
func (k *KDC) AddUser(t testing.TB, name, password string) {
	t.Helper()
	k.checkName(t, name)
	if strings.ContainsAny(password, "\n\r\"") {
		t.Fatalf("krbtest: AddUser %s: the password must not contain newlines or quotes", name)
	}
	// The query goes on stdin so that the password is not in the process list; kadmin.local
	// echoes stdin, so only its stderr may appear in a failure message.
	k.kadmin(t, fmt.Sprintf("addprinc -pw \"%s\" %s", password, name), true)
	k.mustExist(t, name)
}

// ServiceKeytab creates the service principal spn (e.g. "HTTP/localhost") with a random key,
// once, and returns the path of a keytab holding its keys.
func (k *KDC) ServiceKeytab(t testing.TB, spn string) string {
	t.Helper()
	k.checkName(t, spn)
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.keytabs[spn]; ok {
		return p
	}
	k.kadmin(t, "addprinc -randkey "+spn, false)
	k.mustExist(t, spn)
	return k.exportLocked(t, spn, "")
}

// UserKeytab exports the current keys of the existing principal name into a keytab and
// returns its path. The keys are not changed (ktadd -norandkey), so the password still works:
// the keytab stands for a service account that logs in without a password.
func (k *KDC) UserKeytab(t testing.TB, name string) string {
	t.Helper()
	k.checkName(t, name)
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.keytabs[name]; ok {
		return p
	}
	return k.exportLocked(t, name, "-norandkey ")
}

func (k *KDC) exportLocked(t testing.TB, name, flags string) string {
	t.Helper()
	path := filepath.Join(k.Dir, strings.NewReplacer("/", "_", ".", "_").Replace(name)+".keytab")
	k.kadmin(t, "ktadd "+flags+"-k "+path+" "+name, false)
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("krbtest: ktadd %s wrote no keytab at %s", name, path)
	}
	k.keytabs[name] = path
	return path
}

func (k *KDC) mustExist(t testing.TB, name string) {
	t.Helper()
	out, err := k.run(nil, "kadmin.local", "-r", k.Realm, "-q", "getprinc "+name)
	if err != nil || !strings.Contains(string(out), "Principal: "+name+"@"+k.Realm) {
		t.Fatalf("krbtest: principal %s@%s was not created: %s", name, k.Realm, out)
	}
}

// Kadmin runs one kadmin.local query (e.g. "modprinc +requires_preauth alice") and returns
// its standard output. kadmin.local exits 0 even when a query fails: a query whose standard
// error says "while ..." fails the test. Pass no passwords: the output may be printed.
func (k *KDC) Kadmin(t testing.TB, query string) string {
	t.Helper()
	return k.kadmin(t, query, false)
}

// kadmin runs one kadmin.local query. kadmin.local exits 0 even when a query fails: callers
// check the effect instead.
func (k *KDC) kadmin(t testing.TB, query string, secret bool) string {
	t.Helper()
	bin, err := lookPath("kadmin.local")
	if err != nil {
		t.Fatalf("krbtest: %v: install MIT Kerberos with: %s", err, Install)
	}
	cmd := exec.Command(bin, "-r", k.Realm)
	cmd.Env = k.environ()
	cmd.Stdin = strings.NewReader(query + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		detail := stderr.String()
		if !secret {
			detail = stdout.String() + detail
		}
		t.Fatalf("krbtest: kadmin.local: %v: %s", err, detail)
	}
	if msg := stderr.String(); strings.Contains(msg, " while ") {
		// "add_principal: Principal or policy already exists while creating ..." and the like.
		t.Fatalf("krbtest: kadmin.local: %s", strings.TrimSpace(msg))
	}
	return stdout.String()
}

// Kinit runs MIT kinit for name@Realm with password (given on stdin) into a new FILE: ticket
// cache in Dir and returns the cache's path (set KRB5CCNAME to it, or to "FILE:"+path).
// Extra kinit flags may follow, e.g. "-l", "2s" for a ticket that expires in two seconds.
func (k *KDC) Kinit(t testing.TB, name, password string, flags ...string) string {
	t.Helper()
	k.checkName(t, name)
	bin, err := lookPath("kinit")
	if err != nil {
		t.Fatalf("krbtest: %v: install MIT Kerberos with: %s", err, Install)
	}
	k.mu.Lock()
	k.caches++
	path := filepath.Join(k.Dir, fmt.Sprintf("krb5cc_%s_%d", strings.ReplaceAll(name, "/", "_"), k.caches))
	k.mu.Unlock()
	args := append(append([]string{"-c", "FILE:" + path}, flags...), name+"@"+k.Realm)
	cmd := exec.Command(bin, args...)
	cmd.Env = k.environ()
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("krbtest: kinit %s: %v: %s", name, err, out)
	}
	return path
}

func (k *KDC) run(stdin []byte, prog string, args ...string) ([]byte, error) {
	bin, err := lookPath(prog)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = k.environ()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return cmd.CombinedOutput()
}

// lookPath finds prog on PATH or in the sbin directories, which a user's PATH often lacks
// (krb5kdc, kdb5_util and kadmin.local live in /usr/sbin).
func lookPath(prog string) (string, error) {
	if p, err := exec.LookPath(prog); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(prog + " not found on PATH or in /usr/sbin")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomPassword is the master password of the throwaway database (kept only in the stash).
func randomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// Localhost rewrites a URL on 127.0.0.1 (as httptest.Server.URL) to the host name localhost,
// whose service principal HTTP/localhost the realm maps (Krb5Conf's domain_realm).
func Localhost(rawURL string) string {
	return strings.Replace(rawURL, "//127.0.0.1:", "//localhost:", 1)
}
