package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
	"github.com/awskeep/awskeep/core/sigv4"
)

// Helpers for the SAML tests: a user whose profiles get credentials from a samltest IdP,
// STS behind a recorder that keeps what awskeep sent to AssumeRoleWithSAML, and checks that
// no IdP password, Conjur API key, Kerberos password or SAML assertion leaks.

// samlUserName is the IdP account of the tests; samltest makes it the RoleSessionName.
const samlUserName = "alice"

// samlRole is the role of samltest.DefaultRole, the one most tests' assertions offer.
var samlRole = samltest.DefaultRole

// roleName is the name part of a role ARN (arn:aws:iam::ACCOUNT:role/NAME).
func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// samlUser is a user with SAML profiles. Everything a run printed is kept in seen, so that
// the assertions STS received (known only after the run) can be looked for in it.
type samlUser struct {
	*user
	sts *samlSTS
	// allowed are files that hold a secret on purpose (a file: password source).
	allowed []string

	mu   sync.Mutex
	seen []string
}

// newSAMLUser is a new user (home, caches) whose STS endpoint is a samlSTS in front of moto.
// secrets (IdP passwords, the Conjur API key, the Kerberos password) must appear in no
// output and no file.
func newSAMLUser(t *testing.T, secrets ...string) *samlUser {
	t.Helper()
	su := &samlUser{user: newUser(t), sts: startSAMLSTS(t, world.server.URL)}
	su.secrets = append(su.secrets, secrets...)
	su.allowed = []string{su.pinFile} // newUser's PIN, which newUser counts among the secrets
	return su
}

// samlProfile is [profile name] of a SAML profile: credential_process runs awskeep for the
// same profile, STS is the recorder in front of moto, and lines follow
// (awskeep_saml_url, awskeep_saml_provider, ...).
func (su *samlUser) samlProfile(name string, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[profile %s]\n", name)
	fmt.Fprintf(&b, "credential_process = %s credential-process --profile %s\n", awskeep, name)
	b.WriteString("awskeep_source = saml\n")
	b.WriteString("region = us-east-1\n")
	fmt.Fprintf(&b, "endpoint_url = %s\n", su.sts.URL)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// formProfile is a form-login profile for alice at idp with the given password source.
func (su *samlUser) formProfile(name string, idp *samltest.IdP, passwordSource string, lines ...string) string {
	return su.samlProfile(name, append([]string{
		"awskeep_saml_url = " + idp.LoginURL,
		"awskeep_saml_provider = form",
		"awskeep_saml_username = " + samlUserName,
		"awskeep_saml_password_source = " + passwordSource,
	}, lines...)...)
}

// passwordFile writes password into a 0600 file in the user's home and returns a
// file: password source for it; the file may hold it.
func (su *samlUser) passwordFile(t *testing.T, name, password string) string {
	t.Helper()
	path := filepath.Join(su.home, name)
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	su.allowed = append(su.allowed, path)
	return "file:" + path
}

func (su *samlUser) remember(r result) result {
	su.mu.Lock()
	su.seen = append(su.seen, r.stdout, r.stderr)
	su.mu.Unlock()
	return r
}

// rememberText keeps text shown elsewhere (a terminal) for checkSecrets.
func (su *samlUser) rememberText(s string) {
	su.mu.Lock()
	su.seen = append(su.seen, s)
	su.mu.Unlock()
}

// runSAML is u.run, remembered.
func (su *samlUser) runSAML(extraEnv []string, args ...string) result {
	su.t.Helper()
	return su.remember(su.run("", extraEnv, args...))
}

// execSAML is u.exec, remembered.
func (su *samlUser) execSAML(bin string, extraEnv []string, args ...string) result {
	su.t.Helper()
	return su.remember(su.exec(bin, "", extraEnv, args...))
}

// detachedSAML is u.detached (no controlling terminal, stdin /dev/null), remembered.
func (su *samlUser) detachedSAML(bin string, extraEnv []string, args ...string) result {
	su.t.Helper()
	r, _ := su.detached(bin, extraEnv, args...)
	return su.remember(r)
}

// credentialProcess runs awskeep credential-process --profile name without a terminal and
// returns the credentials, remembering their secret part.
func (su *samlUser) credentialProcess(t *testing.T, extraEnv []string, name string, extra ...string) credprocOutput {
	t.Helper()
	r := su.detachedSAML(awskeep, extraEnv, append([]string{"credential-process", "--profile", name}, extra...)...)
	mustSucceed(t, r, "credential-process --profile "+name)
	return su.credentials(r.stdout)
}

// checkSecrets fails the test if a secret of the user or an assertion STS received
// appears in any output remembered so far or in any file under the home (but the
// allowed files), and if a temporary credential appears in a file outside the cache
// (u.checkFiles).
func (su *samlUser) checkSecrets(t *testing.T, allowedFiles ...string) {
	t.Helper()
	su.mu.Lock()
	seen := strings.Join(su.seen, "\n")
	su.mu.Unlock()
	secrets := append([]string{}, su.secrets...)
	for _, a := range su.sts.assertions() {
		secrets = append(secrets, assertionSecrets(t, a)...)
	}
	// Okta's one-time session token travels in the app URL's query: never shown.
	if strings.Contains(seen, "sessionToken=") {
		t.Error("an output shows a URL with Okta's sessionToken")
	}
	allowed := append(append([]string{}, su.allowed...), allowedFiles...)
	for i, s := range secrets {
		if s != "" && strings.Contains(seen, s) {
			t.Errorf("secret #%d (%s) appears in awskeep's or a client's output", i, secretKind(s, su.secrets))
		}
	}
	err := filepath.WalkDir(su.home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || slices.Contains(allowed, path) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, s := range secrets {
			if s != "" && bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds secret #%d (%s)", path, i, secretKind(s, su.secrets))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	su.checkFiles(t, allowedFiles...)
}

func secretKind(s string, userSecrets []string) string {
	if slices.Contains(userSecrets, s) {
		return "a password or key"
	}
	return "part of a SAML assertion"
}

// signatureValue matches the text of XML-DSig SignatureValue elements.
var signatureValue = regexp.MustCompile(`<(?:\w+:)?SignatureValue[^>]*>([^<]+)</`)

// assertionSecrets are the strings that give a SAMLResponse away: the base64 response as
// posted, a long piece of it, and its signature values (which a log of the decoded XML
// would show).
func assertionSecrets(t *testing.T, encoded string) []string {
	t.Helper()
	out := []string{encoded, encoded[len(encoded)/2 : len(encoded)/2+64]}
	xml, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("STS received a SAMLAssertion that is not base64: %v", err)
	}
	sigs := signatureValue.FindAllSubmatch(xml, -1)
	if len(sigs) == 0 {
		t.Fatal("STS received a SAMLAssertion without a signature value: samltest signs every one")
	}
	for _, m := range sigs {
		out = append(out, strings.Join(strings.Fields(string(m[1])), ""))
	}
	return out
}

// keyringHelper builds awskeep-keyring next to awskeep once, unless the harness did:
// awskeep runs it for keyring: password sources and for saml store-password.
var keyringHelper = sync.OnceValue(func() error {
	if _, err := os.Stat(filepath.Join(binDir, "awskeep-keyring")); err == nil {
		return nil
	}
	cmd := exec.Command("go", "build", "-o", binDir+"/", "github.com/awskeep/awskeep/core/cmd/awskeep-keyring")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build awskeep-keyring: %v\n%s", err, out)
	}
	return nil
})

// needKeyringHelper fails the test unless awskeep-keyring is next to awskeep.
func needKeyringHelper(t *testing.T) {
	t.Helper()
	if err := keyringHelper(); err != nil {
		t.Fatal(err)
	}
}

// conjurEnv is the CONJUR_* environment of a fake Conjur, as KEY=VALUE.
func conjurEnv(c *conjurtest.Server) []string {
	var env []string
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	return env
}

// stsCall is one request that reached the STS recorder.
type stsCall struct {
	Action, RoleARN, PrincipalARN string
	// Assertion is the SAMLAssertion parameter as received, before narrowing.
	Assertion string
	// Roles are the role ARNs the assertion offered.
	Roles []string
	// Signed says whether the request carried an Authorization header.
	Signed bool
}

// samlSTS is a reverse proxy in front of moto that records every STS query API call and
// keeps the AssumeRoleWithSAML parameters (the assertion only in this test process's
// memory).
//
// moto's AssumeRoleWithSAML takes the role from the assertion's Role attribute and answers
// HTTP 500 when it holds several values, where AWS takes the RoleArn parameter and checks
// that the assertion offers it. So, standing in for that part of AWS, the recorder narrows
// the Role attribute to the value of the RoleArn that was asked for before moto sees it (moto
// checks no signature), and answers AccessDenied, as AWS does, when the assertion does not
// offer that role. moto with authentication on cannot take an unsigned call at all, so the
// recorder signs AssumeRoleWithSAML itself (forwardSigned). Every other call goes through as
// it came, Host header included: signed calls (GetCallerIdentity from the clients) are
// checked by moto against the recorder's host:port.
type samlSTS struct {
	URL   string
	mu    sync.Mutex
	calls []stsCall
}

func startSAMLSTS(t *testing.T, target string) *samlSTS {
	t.Helper()
	s := &samlSTS{}
	proxy := hostKeepingProxy(t, target)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := stsCall{Action: r.URL.Query().Get("Action"), Signed: r.Header.Get("Authorization") != ""}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" && r.ContentLength <= maxFormBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
			r.Body.Close()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			form, err := url.ParseQuery(string(body))
			if err == nil && form.Get("Action") != "" {
				call.Action = form.Get("Action")
			}
			if err == nil && call.Action == "AssumeRoleWithSAML" {
				call.RoleARN, call.PrincipalARN = form.Get("RoleArn"), form.Get("PrincipalArn")
				call.Assertion = form.Get("SAMLAssertion")
				narrowed, roles, ok := narrowRoles(call.Assertion, call.RoleARN, call.PrincipalARN)
				call.Roles = roles
				s.record(call)
				if !ok {
					stsError(w, http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
					return
				}
				form.Set("SAMLAssertion", narrowed)
				forwardSigned(w, r, target, form)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		s.record(call)
		proxy.ServeHTTP(w, r)
	})
	s.URL = serveLoopback(t, handler)
	return s
}

func (s *samlSTS) record(c stsCall) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// samlCalls returns the AssumeRoleWithSAML calls so far.
func (s *samlSTS) samlCalls() []stsCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stsCall
	for _, c := range s.calls {
		if c.Action == "AssumeRoleWithSAML" {
			out = append(out, c)
		}
	}
	return out
}

// assertions returns every SAMLAssertion the recorder received.
func (s *samlSTS) assertions() []string {
	var out []string
	for _, c := range s.samlCalls() {
		if c.Assertion != "" {
			out = append(out, c.Assertion)
		}
	}
	return out
}

// lastSAMLCall is the last AssumeRoleWithSAML call; the test fails if there was none.
func (s *samlSTS) lastSAMLCall(t *testing.T) stsCall {
	t.Helper()
	calls := s.samlCalls()
	if len(calls) == 0 {
		t.Fatal("awskeep did not call STS AssumeRoleWithSAML")
	}
	return calls[len(calls)-1]
}

// checkSAMLCalls fails the test unless STS saw n AssumeRoleWithSAML calls in all, none of
// them signed (AssumeRoleWithSAML takes no AWS credentials).
func (s *samlSTS) checkSAMLCalls(t *testing.T, n int) {
	t.Helper()
	calls := s.samlCalls()
	if len(calls) != n {
		t.Fatalf("STS saw %d AssumeRoleWithSAML calls, want %d", len(calls), n)
	}
	for _, c := range calls {
		if c.Signed {
			t.Fatal("AssumeRoleWithSAML was signed: it must be sent without AWS credentials")
		}
	}
}

// roleAttribute is the Role attribute of a SAML assertion (crewjam/saml writes the saml:
// prefix; others may not).
var (
	roleAttribute  = regexp.MustCompile(`(?s)(<(?:\w+:)?Attribute\b[^>]*Name="` + regexp.QuoteMeta(samlassert.RoleAttribute) + `"[^>]*>)(.*?)(</(?:\w+:)?Attribute>)`)
	attributeValue = regexp.MustCompile(`(?s)<(?:\w+:)?AttributeValue\b[^>]*>([^<]*)</(?:\w+:)?AttributeValue>`)
)

// narrowRoles returns the assertion with only the Role value that pairs roleARN and
// principalARN, the role ARNs it offered, and whether it offered that pair.
func narrowRoles(encoded, roleARN, principalARN string) (string, []string, bool) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", nil, false
	}
	var roles []string
	found := false
	out := roleAttribute.ReplaceAllFunc(raw, func(attr []byte) []byte {
		m := roleAttribute.FindSubmatch(attr)
		var kept []byte
		for _, v := range attributeValue.FindAllSubmatch(m[2], -1) {
			parts := strings.Split(strings.TrimSpace(string(v[1])), ",")
			var role, principal string
			for _, p := range parts {
				p = strings.TrimSpace(p)
				switch {
				case strings.Contains(p, ":role/"):
					role = p
				case strings.Contains(p, ":saml-provider/"):
					principal = p
				}
			}
			roles = append(roles, role)
			if role == roleARN && principal == principalARN && !found {
				found = true
				kept = v[0]
			}
		}
		return append(append(append([]byte{}, m[1]...), kept...), m[3]...)
	})
	return base64.StdEncoding.EncodeToString(out), roles, found
}

// forwardSigned sends form to moto signed with alice's key and copies the answer to w.
// AWS takes AssumeRoleWithSAML unsigned, but moto with authentication on answers HTTP 500
// to every request without an Authorization header (its IAMRequest reads the header
// unconditionally), so the recorder, standing in for AWS's front door, signs it. moto then
// assumes the role named in the assertion whoever signed.
func forwardSigned(w http.ResponseWriter, in *http.Request, target string, form url.Values) {
	body := form.Encode()
	req, err := http.NewRequestWithContext(in.Context(), http.MethodPost, target+"/", strings.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	signer := sigv4.New(sigv4.SoftwareDeriver(world.alice.SecretAccessKey))
	if err := signer.SignHTTP(in.Context(), req, hex.EncodeToString(sum[:]),
		sigv4.Credentials{AccessKeyID: world.alice.AccessKeyID}, "sts", mototest.Region, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// stsError writes an STS query API error.
func stsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>e2e</RequestId></ErrorResponse>`, code, message)
}

// botoCallerARN runs boto3 with the user's environment and profile and returns the caller
// ARN of sts.get_caller_identity.
func (su *samlUser) botoCallerARN(t *testing.T, extraEnv []string, profile string) string {
	t.Helper()
	script := `import boto3, sys
print(boto3.Session(profile_name=sys.argv[1]).client("sts").get_caller_identity()["Arn"])`
	r := su.execSAML(pyenvPython(t), extraEnv, "-c", script, profile)
	mustSucceed(t, r, "boto3 get_caller_identity --profile "+profile)
	return strings.TrimSpace(r.stdout)
}

// cliCallerARN runs AWS CLI v1 sts get-caller-identity for profile and returns the caller
// ARN.
func (su *samlUser) cliCallerARN(t *testing.T, extraEnv []string, profile string) string {
	t.Helper()
	r := su.execSAML(awsCLIs(t)["v1"], extraEnv, "--profile", profile, "sts", "get-caller-identity",
		"--query", "Arn", "--output", "text")
	mustSucceed(t, r, "aws --profile "+profile+" sts get-caller-identity")
	return strings.TrimSpace(r.stdout)
}
