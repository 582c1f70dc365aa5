package conjurtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// do sends one request and returns the status and body.
func do(t *testing.T, c *http.Client, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	s := Start(t, Options{Account: "acme", Login: "host/ci/runner", APIKey: "k3y",
		Variables: map[string]string{"prod/db pw": "s3cret", "empty": ""}, Forbidden: []string{"locked"}})
	c := http.DefaultClient
	authn := s.URL + "/authn/acme/host%2Fci%2Frunner/authenticate"

	if code, body := do(t, c, "POST", authn, "wrong", nil); code != 401 || body != "" {
		t.Fatalf("wrong key: %d %q", code, body)
	}
	if code, _ := do(t, c, "POST", s.URL+"/authn/other/host%2Fci%2Frunner/authenticate", "k3y", nil); code != 401 {
		t.Fatalf("wrong account: %d", code)
	}
	if code, _ := do(t, c, "GET", authn, "", nil); code != 405 {
		t.Fatalf("GET authenticate: %d", code)
	}
	code, token := do(t, c, "POST", authn, "k3y", nil)
	if code != 200 {
		t.Fatalf("authenticate: %d", code)
	}
	var tok map[string]string
	if err := json.Unmarshal([]byte(token), &tok); err != nil || tok["protected"] == "" || tok["payload"] == "" || tok["signature"] == "" {
		t.Fatalf("token %q is not shaped like Conjur's: %v", token, err)
	}
	code, b64 := do(t, c, "POST", authn, "k3y", map[string]string{"Accept-Encoding": "base64"})
	if raw, err := base64.StdEncoding.DecodeString(b64); code != 200 || err != nil || !json.Valid(raw) {
		t.Fatalf("base64 authenticate: %d %q %v", code, b64, err)
	}
	auth := map[string]string{"Authorization": `Token token="` + base64.StdEncoding.EncodeToString([]byte(token)) + `"`}

	tests := []struct {
		name, path string
		header     map[string]string
		wantCode   int
		wantBody   string
	}{
		{"escaped id", "/secrets/acme/variable/prod%2Fdb%20pw", auth, 200, "s3cret"},
		{"unescaped slashes", "/secrets/acme/variable/prod/db%20pw", auth, 200, "s3cret"},
		{"no token", "/secrets/acme/variable/prod%2Fdb%20pw", nil, 401, ""},
		{"unknown token", "/secrets/acme/variable/prod%2Fdb%20pw", map[string]string{"Authorization": `Token token="eyJ9"`}, 401, ""},
		{"missing", "/secrets/acme/variable/nope", auth, 404, `"code":"not_found"`},
		{"empty value", "/secrets/acme/variable/empty", auth, 404, "is empty or not found"},
		{"forbidden", "/secrets/acme/variable/locked", auth, 403, `"code":"forbidden"`},
		{"other account", "/secrets/other/variable/prod%2Fdb%20pw", auth, 403, ""},
		{"other kind", "/secrets/acme/webservice/x", auth, 404, ""},
		{"version not modelled", "/secrets/acme/variable/prod%2Fdb%20pw?version=1", auth, 501, ""},
		{"batch not modelled", "/secrets?variable_ids=acme:variable:x", auth, 501, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, c, "GET", s.URL+tt.path, "", tt.header)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("GET %s: %d %q, want %d with %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}

	s.ExpireTokens()
	if code, _ := do(t, c, "GET", s.URL+"/secrets/acme/variable/prod%2Fdb%20pw", "", auth); code != 401 {
		t.Fatalf("expired token: %d", code)
	}
	if s.Authentications() != 5 || s.Retrievals() != len(tests)-1+1 {
		t.Fatalf("counts: %d authentications, %d retrievals", s.Authentications(), s.Retrievals())
	}
}

func TestServerTLS(t *testing.T) {
	s := Start(t, Options{TLS: true, Variables: map[string]string{"v": "x"}})
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CertFile holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	code, _ := do(t, c, "POST", s.URL+"/authn/myorg/host%2Fawskeep/authenticate", s.APIKey, nil)
	if code != 200 {
		t.Fatalf("authenticate over TLS: %d", code)
	}
	if env := s.Env(); env["CONJUR_CERT_FILE"] != s.CertFile || env["CONJUR_AUTHN_API_KEY"] != s.APIKey {
		t.Fatalf("Env() = %v", env)
	}
}
