package samlidp

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/krbtest"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/spnego"
)

// TestKerberosLogin runs a real MIT KDC, a samltest IdP whose /wia page is SPNEGO-protected
// for HTTP/localhost, and logs in with a ticket cache written by MIT kinit.
func TestKerberosLogin(t *testing.T) {
	kdc := krbtest.Start(t)
	kdc.AddUser(t, "alice", "alice-krb-pw")
	cc := kdc.Kinit(t, "alice", "alice-krb-pw")
	kdc.ServiceKeytab(t, "HTTP/other") // a principal the IdP has no key for

	idp := samltest.Start(t, samltest.Options{})
	idp.Handle("GET /wia", kdc.Protect(t, "HTTP/localhost", func(w http.ResponseWriter, r *http.Request, principal string) {
		idp.SSOPage(w, r, strings.TrimSuffix(principal, "@"+kdc.Realm))
	}))
	idp.Handle("GET /basic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="idp"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	idp.Handle("GET /forms", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><title>Sign In</title></head><body><form method="post"><input name="UserName"><input type="password" name="Password"></form></body></html>`)
	}))
	// localhost, not 127.0.0.1: the SPN is HTTP/<host as written>.
	base := strings.Replace(idp.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name    string
		path    string
		opts    spnego.Options
		targets []error
		text    []string
	}{
		{name: "valid ticket", path: "/wia?loginToRp=urn:amazon:webservices", opts: spnego.Options{CCache: "FILE:" + cc}},
		{name: "no ticket", path: "/wia", opts: spnego.Options{CCache: "FILE:" + filepath.Join(t.TempDir(), "krb5cc_none")},
			targets: []error{ErrKerberosRefused, spnego.ErrNoTicket},
			text:    []string{"Kerberos for " + base + "/wia: spnego: no Kerberos ticket in FILE:", "run kinit"}},
		{name: "ticket refused", path: "/wia", opts: spnego.Options{CCache: "FILE:" + cc, SPN: "HTTP/other"},
			targets: []error{ErrKerberosRefused, spnego.ErrRejected},
			text:    []string{"Kerberos for " + base + "/wia: spnego: " + base + "/wia answered HTTP 401"}},
		{name: "no Negotiate offered", path: "/basic", opts: spnego.Options{CCache: "FILE:" + cc},
			targets: []error{ErrKerberosRefused},
			text:    []string{"Kerberos for " + base + "/basic: the IdP answered HTTP 401 offering Basic: it does not take Kerberos (Negotiate) here"}},
		{name: "password form instead", path: "/forms", opts: spnego.Options{CCache: "FILE:" + cc},
			targets: []error{ErrKerberosRefused},
			text:    []string{"Kerberos for " + base + "/forms: the IdP shows its password form instead of accepting Kerberos"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Krb5Conf = kdc.Krb5Conf
			tt.opts.Getenv = func(string) string { return "" }
			v, err := Kerberos{}.Login(ctxT(t), Login{URL: base + tt.path, Username: "ignored", Kerberos: tt.opts,
				Password: never(t, "Password"), MFACode: never(t, "MFACode")})
			if tt.targets == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkResponse(t, v, "alice")
				return
			}
			wantErr(t, err, creds.ClassIdP, tt.targets, tt.text...)
			noSecrets(t, err, "alice-krb-pw", "loginToRp")
		})
	}

	t.Run("KDC down", func(t *testing.T) {
		kdc2 := krbtest.Start(t)
		kdc2.AddUser(t, "bob", "bob-krb-pw")
		cc2 := kdc2.Kinit(t, "bob", "bob-krb-pw")
		kdc2.Stop()
		_, err := Kerberos{}.Login(ctxT(t), Login{URL: base + "/wia", Kerberos: spnego.Options{Krb5Conf: kdc2.Krb5Conf, CCache: "FILE:" + cc2, Getenv: func(string) string { return "" }}})
		wantErr(t, err, creds.ClassIdP, []error{ErrKerberosRefused, spnego.ErrKDCUnreachable}, "Kerberos for "+base+"/wia: spnego: cannot reach the KDC for "+kdc2.Realm)
	})
}
