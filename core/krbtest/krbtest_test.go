package krbtest_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/krbtest"
)

func TestStartKinit(t *testing.T) {
	start := time.Now()
	k := krbtest.Start(t)
	t.Logf("KDC up on %s in %v", k.Addr, time.Since(start))
	k.AddUser(t, "alice", "alice-password")
	cc := k.Kinit(t, "alice", "alice-password")
	out, err := exec.Command("klist", "-c", "FILE:"+cc).CombinedOutput()
	if err != nil {
		t.Fatalf("klist: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "Default principal: alice@"+k.Realm) ||
		!strings.Contains(string(out), "krbtgt/"+k.Realm+"@"+k.Realm) {
		t.Fatalf("klist:\n%s", out)
	}
	if !strings.Contains(k.Log(), "AS_REQ") {
		t.Errorf("KDC log has no AS_REQ:\n%s", k.Log())
	}
}

func TestServiceKeytabOnce(t *testing.T) {
	k := krbtest.Start(t)
	a := k.ServiceKeytab(t, "HTTP/localhost")
	b := k.ServiceKeytab(t, "HTTP/localhost")
	if a != b {
		t.Fatalf("second ServiceKeytab re-keyed: %s, %s", a, b)
	}
	if fi, err := os.Stat(a); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("keytab %s: %v %v", a, fi.Mode(), err)
	}
}

// TestProtectCurl checks Protect against MIT's own GSS-API client: curl --negotiate.
func TestProtectCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: apt-get install -y curl")
	}
	k := krbtest.Start(t)
	k.AddUser(t, "alice", "alice-password")
	cc := k.Kinit(t, "alice", "alice-password")
	srv := httptest.NewServer(k.Protect(t, "HTTP/localhost", func(w http.ResponseWriter, r *http.Request, principal string) {
		io.WriteString(w, principal)
	}))
	defer srv.Close()
	url := krbtest.Localhost(srv.URL) + "/saml"

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Negotiate" {
		t.Fatalf("without a token: %s, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}

	cmd := exec.Command(curl, "-sS", "--negotiate", "-u", ":", url)
	cmd.Env = append(append(os.Environ(), k.Env()...), "KRB5CCNAME=FILE:"+cc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("curl --negotiate: %v: %s", err, out)
	}
	if string(out) != "alice@"+k.Realm {
		t.Fatalf("curl --negotiate: %q", out)
	}
}

func TestStop(t *testing.T) {
	k := krbtest.Start(t)
	k.Stop()
	k.Stop() // idempotent
	c, err := net.DialTimeout("tcp", k.Addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatal("KDC still listening after Stop")
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("dial: %v", err)
	}
}
