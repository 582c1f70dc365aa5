package krbtest

import (
	"net/http"
	"os"
	"testing"

	"github.com/jcmturner/goidentity/v6"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// Protect returns a handler that accepts only requests carrying a valid SPNEGO token
// (RFC 4559 "Authorization: Negotiate ...") for the service principal spn, verified with
// the service's keytab (created by ServiceKeytab), and calls next with the client's
// principal, e.g. "alice@AWSKEEP.TEST". Requests without a token get 401 with
// "WWW-Authenticate: Negotiate"; invalid tokens get 401 with a SPNEGO reject token.
//
// MIT's KDC puts a PAC in tickets that gokrb5 cannot parse, so the handler does not decode
// it (service.DecodePAC(false)); the identity comes from the ticket's client name.
//
// Serve it on 127.0.0.1 and reach it as http://localhost:PORT, so that the client's SPN is
// HTTP/localhost (see Krb5Conf's domain_realm). gokrb5's replay cache is a process-wide
// singleton with a cleaner goroutine that never ends: tests using goleak should ignore
// github.com/jcmturner/gokrb5/v8/service.GetReplayCache.func1.
func (k *KDC) Protect(t testing.TB, spn string, next func(w http.ResponseWriter, r *http.Request, principal string)) http.Handler {
	t.Helper()
	kt, err := keytab.Load(k.ServiceKeytab(t, spn))
	if err != nil {
		t.Fatalf("krbtest: load the keytab of %s: %v", spn, err)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := goidentity.FromHTTPRequestContext(r)
		if id == nil || !id.Authenticated() {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			http.Error(w, "no Kerberos identity", http.StatusUnauthorized)
			return
		}
		next(w, r, id.UserName()+"@"+id.Domain())
	})
	return spnego.SPNEGOKRB5Authenticate(inner, kt, service.DecodePAC(false), service.KeytabPrincipal(spn))
}

// KeytabKeys returns the key values of the keytab at path, for tests that check no output
// or file shows them.
func KeytabKeys(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("krbtest: %v", err)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		t.Fatalf("krbtest: keytab %s: %v", path, err)
	}
	var keys [][]byte
	for _, e := range kt.Entries {
		keys = append(keys, e.Key.KeyValue)
	}
	if len(keys) == 0 {
		t.Fatalf("krbtest: keytab %s holds no key", path)
	}
	return keys
}
