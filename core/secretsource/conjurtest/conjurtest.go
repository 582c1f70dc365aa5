// Package conjurtest runs a fake Conjur for tests: the two calls of CyberArk's published
// REST API that API-key clients make, on a loopback httptest server. Conjur itself (Ruby,
// PostgreSQL) cannot run in awskeep's test environment. Tests of core/secretsource, the
// SAML source and the commands import it.
//
// What it does, after the Conjur OSS / Secrets Manager API reference:
//
//	POST /authn/{account}/{login}/authenticate          (login url-escaped: host%2Fapp)
//	  body: the API key. 200 with a JSON access token shaped like Conjur's
//	  ({"protected","payload","signature"}, valid TokenTTL, 8 minutes by default);
//	  base64-encoded when the request says Accept-Encoding: base64.
//	  401 with an empty body for a wrong account, login or API key.
//	GET /secrets/{account}/variable/{id}                 (id url-escaped or not)
//	  Authorization: Token token="<base64 of the token>".
//	  200 and the value; 401 without a token this server issued or with an expired one;
//	  403 for a variable the login may not read (Options.Forbidden) or another account;
//	  404 for a variable that does not exist or has no value, with Conjur's JSON error.
//
// What it does not model: policy, roles, privileges and visibility (a real Conjur answers
// 404 rather than 403 for a variable the login cannot even see), other authenticators
// (authn-ldap, -jwt, -k8s, -iam, -oidc, cert), GET /authn/{account}/login, API key
// rotation, variable versions (?version=) and batch retrieval (GET /secrets?variable_ids=),
// which answer 501, resource kinds other than variable (404), writes, host restricted_to
// CIDRs, token signatures (any token this server issued and that has not expired is good),
// Secrets Manager SaaS paths, rate limits and audit.
package conjurtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure the fake.
type Options struct {
	// Account is the Conjur account; default "myorg".
	Account string
	// Login is the one login that may authenticate; default "host/awskeep".
	Login string
	// APIKey is Login's API key; default a random one (Server.APIKey).
	APIKey string
	// Variables maps variable ids ("prod/okta/password") to values.
	Variables map[string]string
	// Forbidden lists variable ids Login may not read: 403, whether or not they have a
	// value.
	Forbidden []string
	// TLS serves https with a self-signed certificate for 127.0.0.1, written to
	// Server.CertFile for CONJUR_CERT_FILE.
	TLS bool
	// TokenTTL is how long an access token is good for; default 8 minutes, as Conjur.
	TokenTTL time.Duration
}

// Server is a running fake Conjur. Its methods are safe for concurrent use.
type Server struct {
	// URL is the appliance URL, e.g. http://127.0.0.1:41234.
	URL string
	// Account, Login and APIKey are what the server accepts.
	Account, Login, APIKey string
	// CertFile is a PEM file with the server's certificate when Options.TLS is set.
	CertFile string

	srv *httptest.Server
	ttl time.Duration

	mu        sync.Mutex
	vars      map[string]string
	forbidden map[string]bool
	tokens    map[string]time.Time // issued token (raw JSON) -> expiry
	authns    int
	reads     int
}

// Start starts a fake Conjur and stops it when t's test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{
		Account:   or(opts.Account, "myorg"),
		Login:     or(opts.Login, "host/awskeep"),
		APIKey:    opts.APIKey,
		ttl:       opts.TokenTTL,
		vars:      map[string]string{},
		forbidden: map[string]bool{},
		tokens:    map[string]time.Time{},
	}
	if s.APIKey == "" {
		s.APIKey = randomString(24)
	}
	if s.ttl == 0 {
		s.ttl = 8 * time.Minute
	}
	for k, v := range opts.Variables {
		s.vars[k] = v
	}
	for _, id := range opts.Forbidden {
		s.forbidden[id] = true
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// Clients that refuse the certificate are what some tests check; their handshake
	// errors are not news.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		s.srv.StartTLS()
		s.CertFile = filepath.Join(t.TempDir(), "conjur.pem")
		block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
		if err := os.WriteFile(s.CertFile, block, 0o600); err != nil {
			s.srv.Close()
			t.Fatalf("conjurtest: %v", err)
		}
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server. Start arranges it; calling it again does nothing.
func (s *Server) Close() { s.srv.Close() }

// Env returns the CONJUR_* environment a client needs to reach this server as Login.
func (s *Server) Env() map[string]string {
	env := map[string]string{
		"CONJUR_APPLIANCE_URL": s.URL,
		"CONJUR_ACCOUNT":       s.Account,
		"CONJUR_AUTHN_LOGIN":   s.Login,
		"CONJUR_AUTHN_API_KEY": s.APIKey,
	}
	if s.CertFile != "" {
		env["CONJUR_CERT_FILE"] = s.CertFile
	}
	return env
}

// SetVariable gives variable id a value (creating it).
func (s *Server) SetVariable(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vars[id] = value
}

// Forbid makes variable id unreadable for Login (403).
func (s *Server) Forbid(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden[id] = true
}

// ExpireTokens makes every token issued so far expired (401 on the next read).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tokens {
		s.tokens[k] = time.Time{}
	}
}

// Authentications counts authenticate requests, successful or not.
func (s *Server) Authentications() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authns
}

// Retrievals counts secret requests, successful or not.
func (s *Server) Retrievals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// EscapedPath keeps %2F inside a login or an id from splitting it.
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	switch {
	case len(segs) == 4 && segs[0] == "authn" && segs[3] == "authenticate":
		s.authenticate(w, r, segs[1], segs[2])
	case len(segs) >= 4 && segs[0] == "secrets":
		s.retrieve(w, r, segs[1], segs[2], segs[3:])
	case len(segs) == 1 && segs[0] == "secrets":
		http.Error(w, "conjurtest: batch retrieval is not modelled", http.StatusNotImplemented)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rawAccount, rawLogin string) {
	s.mu.Lock()
	s.authns++
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	account, err1 := url.PathUnescape(rawAccount)
	login, err2 := url.PathUnescape(rawLogin)
	key, err3 := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err1 != nil || err2 != nil || err3 != nil ||
		account != s.Account || login != s.Login || string(key) != s.APIKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	now := time.Now()
	token := s.newToken(login, now)
	s.mu.Lock()
	s.tokens[token] = now.Add(s.ttl)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "base64") {
		w.Header().Set("Content-Encoding", "base64")
		_, _ = io.WriteString(w, base64.StdEncoding.EncodeToString([]byte(token)))
		return
	}
	_, _ = io.WriteString(w, token)
}

// newToken builds a token shaped like Conjur's (a JSON-serialised JWS). Its signature is
// random: the fake remembers the tokens it issued instead of verifying them.
func (s *Server) newToken(login string, now time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "conjur.org/slosilo/v2", "kid": "conjurtest"})
	payload, _ := json.Marshal(map[string]any{"sub": login, "iat": now.Unix(), "exp": now.Add(s.ttl).Unix(), "jti": randomString(16)})
	token, _ := json.Marshal(map[string]string{
		"protected": enc.EncodeToString(header),
		"payload":   enc.EncodeToString(payload),
		"signature": randomString(43),
	})
	return string(token)
}

func (s *Server) retrieve(w http.ResponseWriter, r *http.Request, rawAccount, kind string, rawID []string) {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if !s.tokenOK(r.Header.Get("Authorization")) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.RawQuery != "" {
		http.Error(w, "conjurtest: query parameters (version) are not modelled", http.StatusNotImplemented)
		return
	}
	account, err := url.PathUnescape(rawAccount)
	if err != nil || account != s.Account {
		conjurError(w, http.StatusForbidden, "forbidden", "Forbidden", "")
		return
	}
	parts := make([]string, len(rawID))
	for i, p := range rawID {
		if parts[i], err = url.PathUnescape(p); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	id := strings.Join(parts, "/")
	full := s.Account + ":" + kind + ":" + id
	if kind != "variable" {
		conjurError(w, http.StatusNotFound, "not_found", fmt.Sprintf("%s %s not found", kind, id), full)
		return
	}
	s.mu.Lock()
	forbidden := s.forbidden[id]
	value, ok := s.vars[id]
	s.mu.Unlock()
	switch {
	case forbidden:
		conjurError(w, http.StatusForbidden, "forbidden", "Forbidden", "")
	case !ok || value == "":
		conjurError(w, http.StatusNotFound, "not_found", fmt.Sprintf("Variable %s is empty or not found.", id), full)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = io.WriteString(w, value)
	}
}

// tokenOK checks an `Authorization: Token token="<base64>"` header.
func (s *Server) tokenOK(h string) bool {
	b64, ok := strings.CutPrefix(h, `Token token="`)
	if !ok || !strings.HasSuffix(b64, `"`) {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, `"`))
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[string(raw)]
	return ok && time.Now().Before(exp)
}

// conjurError writes Conjur's JSON error body.
func conjurError(w http.ResponseWriter, status int, code, msg, target string) {
	body := map[string]any{"error": map[string]any{"code": code, "message": msg}}
	if target != "" {
		body["error"].(map[string]any)["target"] = "variable"
		body["error"].(map[string]any)["details"] = map[string]string{"code": code, "target": "id", "message": target}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
