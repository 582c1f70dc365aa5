package samltest_test

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"golang.org/x/net/html"

	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samltest"
)

// form is an HTML form as a browser would submit it.
type form struct {
	action, method string
	fields         url.Values // hidden and text inputs with their values
	password       string     // name of the password input, if any
}

// forms returns the forms of an HTML page.
func forms(t *testing.T, body string) []form {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []form
	// cur is the index in out of the form being read, -1 outside forms.
	var walk func(n *html.Node, cur int)
	walk = func(n *html.Node, cur int) {
		if n.Type == html.ElementNode {
			attr := func(k string) string {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch {
			case n.Data == "form":
				out = append(out, form{action: attr("action"), method: attr("method"), fields: url.Values{}})
				cur = len(out) - 1
			case n.Data == "input" && cur >= 0:
				switch attr("type") {
				case "password":
					out[cur].password = attr("name")
				case "hidden", "text":
					out[cur].fields.Set(attr("name"), attr("value"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur)
		}
	}
	walk(doc, -1)
	return out
}

// loginForm is the form with a password field.
func loginForm(t *testing.T, body string) form {
	t.Helper()
	for _, f := range forms(t, body) {
		if f.password != "" {
			return f
		}
	}
	t.Fatalf("no login form in page:\n%s", body)
	return form{}
}

// samlResponse returns the SAMLResponse of the page's form to AWS sign-in.
func samlResponse(t *testing.T, body string) string {
	t.Helper()
	for _, f := range forms(t, body) {
		if f.action == samltest.SignInURL && strings.EqualFold(f.method, "post") && f.fields.Has("SAMLResponse") {
			return f.fields.Get("SAMLResponse")
		}
	}
	t.Fatalf("no SAMLResponse form in page:\n%s", body)
	return ""
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func postForm(t *testing.T, c *http.Client, base string, f form, vals url.Values) (*http.Response, string) {
	t.Helper()
	ref, err := url.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	baseURL, _ := url.Parse(base)
	resp, err := c.PostForm(baseURL.ResolveReference(ref).String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func TestFormLogin(t *testing.T) {
	roles := []samlassert.Role{
		samltest.AWSRole("111111111111", "admin", "corp"),
		samltest.AWSRole("222222222222", "read-only", "corp"),
	}
	idp := samltest.Start(t, samltest.Options{
		Users:           map[string]string{"alice": "alice-pw"},
		Roles:           roles,
		SessionDuration: 2 * time.Hour,
	})
	c := newClient(t)

	resp, body := get(t, c, idp.LoginURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET login: %s", resp.Status)
	}
	f := loginForm(t, body)
	if f.action != "/login" || f.password != "password" || !f.fields.Has("username") || f.fields.Get("csrf_token") == "" {
		t.Fatalf("login form = %+v", f)
	}

	// Wrong password: the form again, with the error, and no cookie to /sso.
	vals := f.fields
	vals.Set("username", "alice")
	vals.Set("password", "wrong")
	resp, body = postForm(t, c, idp.URL, f, vals)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Incorrect username or password.") || strings.Contains(body, "SAMLResponse") {
		t.Fatalf("wrong password: %s\n%s", resp.Status, body)
	}
	if n := idp.FailedLogins("alice"); n != 1 {
		t.Fatalf("FailedLogins = %d, want 1", n)
	}

	// Right password, with the new form's CSRF token: redirect to /sso and the SAMLResponse page.
	f = loginForm(t, body)
	vals = f.fields
	vals.Set("password", "alice-pw")
	resp, body = postForm(t, c, idp.URL, f, vals)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/sso" {
		t.Fatalf("login: %s at %s\n%s", resp.Status, resp.Request.URL, body)
	}
	if !strings.Contains(body, "<script>") {
		t.Errorf("SSO page has no auto-submit script:\n%s", body)
	}
	a, err := samlassert.Parse(samlResponse(t, body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Roles) != 2 || a.Roles[0] != roles[0] || a.Roles[1] != roles[1] {
		t.Errorf("roles = %+v", a.Roles)
	}
	if a.RoleSessionName != "alice" || a.SessionDuration != 2*time.Hour || a.Issuer != idp.MetadataURL {
		t.Errorf("assertion = %#v", a)
	}

	// The cookie keeps working: /sso again gives a fresh assertion.
	resp, body = get(t, c, idp.SSOURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sso again: %s", resp.Status)
	}
	samlResponse(t, body)
}

func TestFormRefusals(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users:  map[string]string{"alice": "pw", "mallory": "pw"},
		Locked: []string{"mallory"},
	})
	noRedirect := newClient(t)
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	t.Run("sso without login", func(t *testing.T) {
		resp, _ := get(t, noRedirect, idp.SSOURL)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login" {
			t.Fatalf("GET /sso: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
	})
	t.Run("no CSRF token", func(t *testing.T) {
		resp, err := noRedirect.PostForm(idp.LoginURL, url.Values{"username": {"alice"}, "password": {"pw"}})
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST without CSRF: %s", resp.Status)
		}
	})
	t.Run("locked", func(t *testing.T) {
		c := newClient(t)
		_, body := get(t, c, idp.LoginURL)
		f := loginForm(t, body)
		f.fields.Set("username", "mallory")
		f.fields.Set("password", "pw")
		resp, body := postForm(t, c, idp.URL, f, f.fields)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "locked") || strings.Contains(body, "SAMLResponse") {
			t.Fatalf("locked user: %s\n%s", resp.Status, body)
		}
	})
}

func TestADFSForm(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users: map[string]string{`CORP\alice`: "pw"},
		Form:  samltest.ADFSForm(),
	})
	c := newClient(t)
	loginURL := idp.LoginURL + "?loginToRp=" + url.QueryEscape(samlassert.AudienceURN)
	_, body := get(t, c, loginURL)
	f := loginForm(t, body)
	if f.password != "Password" || !f.fields.Has("UserName") || f.fields.Get("AuthMethod") != "FormsAuthentication" || f.fields.Has("csrf_token") {
		t.Fatalf("ADFS form = %+v", f)
	}
	if !strings.HasPrefix(f.action, "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=") {
		t.Fatalf("form action = %q, want the page's own URL", f.action)
	}

	// Without the hidden AuthMethod field: refused.
	resp, _ := postForm(t, c, idp.URL, f, url.Values{"UserName": {`CORP\alice`}, "Password": {"pw"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST without AuthMethod: %s", resp.Status)
	}

	f.fields.Set("UserName", `CORP\alice`)
	f.fields.Set("Password", "wrong")
	_, body = postForm(t, c, idp.URL, f, f.fields)
	if !strings.Contains(body, "Incorrect user ID or password") {
		t.Fatalf("wrong password page:\n%s", body)
	}
	f.fields.Set("Password", "pw")
	_, body = postForm(t, c, idp.URL, f, f.fields)
	a, err := samlassert.Parse(samlResponse(t, body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.RoleSessionName != `CORP\alice` || len(a.Roles) != 1 || a.Roles[0] != samltest.DefaultRole {
		t.Fatalf("assertion = %v", a)
	}
}

// okta posts JSON to the fake Okta API and decodes the answer.
func okta(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	status, out, err := postJSON(u, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// postJSON is okta without the test: goroutines may not call t.Fatal.
func postJSON(u string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, nil, fmt.Errorf("%s: %v", u, err)
	}
	return resp.StatusCode, out, nil
}

func TestOkta(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users:  map[string]string{"alice@example.com": "pw", "bob@example.com": "pw", "eve@example.com": "pw"},
		Locked: []string{"eve@example.com"},
		TOTP:   map[string]string{"bob@example.com": "123456"},
	})
	authn := idp.URL + "/api/v1/authn"

	t.Run("wrong password", func(t *testing.T) {
		status, body := okta(t, authn, map[string]string{"username": "alice@example.com", "password": "nope"})
		if status != http.StatusUnauthorized || body["errorCode"] != "E0000004" || body["errorSummary"] != "Authentication failed" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("locked", func(t *testing.T) {
		status, body := okta(t, authn, map[string]string{"username": "eve@example.com", "password": "pw"})
		if status != http.StatusOK || body["status"] != "LOCKED_OUT" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		resp, err := http.PostForm(authn, url.Values{"username": {"alice@example.com"}, "password": {"pw"}})
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("form-encoded authn: %s", resp.Status)
		}
	})
	t.Run("password only", func(t *testing.T) {
		status, body := okta(t, authn, map[string]string{"username": "alice@example.com", "password": "pw"})
		token, _ := body["sessionToken"].(string)
		if status != http.StatusOK || body["status"] != "SUCCESS" || token == "" {
			t.Fatalf("%d %v", status, body)
		}
		c := newClient(t)
		resp, page := get(t, c, idp.OktaAppURL+"?sessionToken="+url.QueryEscape(token))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("app URL: %s", resp.Status)
		}
		a, err := samlassert.Parse(samlResponse(t, page), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if a.RoleSessionName != "alice@example.com" {
			t.Fatalf("assertion = %v", a)
		}
		// A session token works once.
		resp, page = get(t, c, idp.OktaAppURL+"?sessionToken="+url.QueryEscape(token))
		if resp.StatusCode != http.StatusForbidden || strings.Contains(page, "SAMLResponse") {
			t.Fatalf("reused session token: %s", resp.Status)
		}
	})
	t.Run("TOTP", func(t *testing.T) {
		status, body := okta(t, authn, map[string]string{"username": "bob@example.com", "password": "pw"})
		state, _ := body["stateToken"].(string)
		if status != http.StatusOK || body["status"] != "MFA_REQUIRED" || state == "" {
			t.Fatalf("%d %v", status, body)
		}
		factors := body["_embedded"].(map[string]any)["factors"].([]any)
		factor := factors[0].(map[string]any)
		verify := factor["_links"].(map[string]any)["verify"].(map[string]any)["href"].(string)
		if factor["id"] != "f1" || factor["factorType"] != "token:software:totp" || factor["provider"] != "GOOGLE" ||
			verify != idp.URL+"/api/v1/authn/factors/f1/verify" {
			t.Fatalf("factor = %v", factor)
		}

		status, body = okta(t, verify, map[string]string{"stateToken": state, "passCode": "000000"})
		if status != http.StatusForbidden || body["errorCode"] != "E0000068" {
			t.Fatalf("wrong passcode: %d %v", status, body)
		}
		status, body = okta(t, verify, map[string]string{"stateToken": "bogus", "passCode": "123456"})
		if status != http.StatusForbidden || body["errorCode"] != "E0000011" {
			t.Fatalf("bogus state token: %d %v", status, body)
		}
		status, body = okta(t, verify, map[string]string{"stateToken": state, "passCode": "123456"})
		token, _ := body["sessionToken"].(string)
		if status != http.StatusOK || body["status"] != "SUCCESS" || token == "" {
			t.Fatalf("right passcode: %d %v", status, body)
		}
		if n := idp.FailedLogins("bob@example.com"); n != 1 {
			t.Fatalf("FailedLogins = %d, want 1 (the wrong passcode)", n)
		}
		if n := idp.PasscodesChecked("bob@example.com"); n != 2 {
			t.Fatalf("PasscodesChecked = %d, want 2 (the wrong passcode and the right one)", n)
		}
		_, page := get(t, newClient(t), idp.OktaAppURL+"?sessionToken="+url.QueryEscape(token))
		if _, err := samlassert.Parse(samlResponse(t, page), time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("invalid session token", func(t *testing.T) {
		resp, _ := get(t, newClient(t), idp.OktaAppURL+"?sessionToken=nope")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("invalid session token: %s", resp.Status)
		}
	})
}

func TestOktaPush(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users: map[string]string{"ann": "pw", "rob": "pw", "tim": "pw", "two": "pw"},
		Push: map[string]samltest.PushAnswer{"ann": samltest.PushApprove, "rob": samltest.PushReject,
			"tim": samltest.PushIgnore, "two": samltest.PushApprove},
		TOTP:      map[string]string{"two": "123456"},
		PushWaits: 2,
	})
	authn := idp.URL + "/api/v1/authn"
	// start logs user in and returns the state token and the push factor's verify link.
	start := func(t *testing.T, user string) (string, string, []any) {
		t.Helper()
		status, body := okta(t, authn, map[string]string{"username": user, "password": "pw"})
		state, _ := body["stateToken"].(string)
		if status != http.StatusOK || body["status"] != "MFA_REQUIRED" || state == "" {
			t.Fatalf("%d %v", status, body)
		}
		factors := body["_embedded"].(map[string]any)["factors"].([]any)
		push := factors[0].(map[string]any)
		verify := push["_links"].(map[string]any)["verify"].(map[string]any)["href"].(string)
		if push["factorType"] != "push" || push["provider"] != "OKTA" || verify != idp.URL+"/api/v1/authn/factors/p1/verify" {
			t.Fatalf("push factor = %v", push)
		}
		return state, verify, factors
	}
	// poll posts the state token to u and checks the transaction's status and factorResult.
	poll := func(t *testing.T, u, state, status, result string) map[string]any {
		t.Helper()
		code, body := okta(t, u, map[string]string{"stateToken": state})
		if code != http.StatusOK || body["status"] != status || (result != "" && body["factorResult"] != result) {
			t.Fatalf("want %s %s: %d %v", status, result, code, body)
		}
		return body
	}
	next := func(t *testing.T, body map[string]any) (string, string) {
		t.Helper()
		n := body["_links"].(map[string]any)["next"].(map[string]any)
		return n["name"].(string), n["href"].(string)
	}

	t.Run("approved after two WAITING answers", func(t *testing.T) {
		state, verify, factors := start(t, "ann")
		if len(factors) != 1 {
			t.Fatalf("factors = %v", factors)
		}
		body := poll(t, verify, state, "MFA_CHALLENGE", "WAITING")
		name, href := next(t, body)
		if name != "poll" || href != verify || body["stateToken"] != state {
			t.Fatalf("WAITING answer = %v", body)
		}
		poll(t, href, state, "MFA_CHALLENGE", "WAITING")
		body = poll(t, href, state, "SUCCESS", "")
		token, _ := body["sessionToken"].(string)
		_, page := get(t, newClient(t), idp.OktaAppURL+"?sessionToken="+url.QueryEscape(token))
		if _, err := samlassert.Parse(samlResponse(t, page), time.Now()); err != nil {
			t.Fatal(err)
		}
		if n := idp.PushesSent("ann"); n != 1 {
			t.Fatalf("PushesSent = %d, want 1 (polls send none)", n)
		}
		// The state token is used up.
		code, body := okta(t, verify, map[string]string{"stateToken": state})
		if code != http.StatusForbidden || body["errorCode"] != "E0000011" {
			t.Fatalf("state token after SUCCESS: %d %v", code, body)
		}
	})
	for _, tc := range []struct{ user, result string }{{"rob", "REJECTED"}, {"tim", "TIMEOUT"}} {
		t.Run(tc.result, func(t *testing.T) {
			state, verify, _ := start(t, tc.user)
			poll(t, verify, state, "MFA_CHALLENGE", "WAITING")
			poll(t, verify, state, "MFA_CHALLENGE", "WAITING")
			body := poll(t, verify, state, "MFA_CHALLENGE", tc.result)
			if name, _ := next(t, body); name != "verify" {
				t.Fatalf("next link after %s is %q", tc.result, name)
			}
			// Verifying again sends a new push.
			poll(t, verify, state, "MFA_CHALLENGE", "WAITING")
			if n := idp.PushesSent(tc.user); n != 2 {
				t.Fatalf("PushesSent = %d, want 2", n)
			}
		})
	}
	t.Run("push and TOTP", func(t *testing.T) {
		state, _, factors := start(t, "two")
		if len(factors) != 2 || factors[1].(map[string]any)["factorType"] != "token:software:totp" {
			t.Fatalf("factors = %v", factors)
		}
		// Either factor ends the transaction: here the TOTP one, without a push.
		code, body := okta(t, idp.URL+"/api/v1/authn/factors/f1/verify", map[string]string{"stateToken": state, "passCode": "123456"})
		if code != http.StatusOK || body["status"] != "SUCCESS" {
			t.Fatalf("TOTP verify for a user with both factors: %d %v", code, body)
		}
		if n := idp.PushesSent("two"); n != 0 {
			t.Fatalf("PushesSent = %d, want 0", n)
		}
	})
	t.Run("factor the user does not have", func(t *testing.T) {
		state, _, _ := start(t, "ann")
		code, body := okta(t, idp.URL+"/api/v1/authn/factors/f1/verify", map[string]string{"stateToken": state, "passCode": "123456"})
		if code != http.StatusNotFound || body["errorCode"] != "E0000007" {
			t.Fatalf("TOTP verify for a push-only user: %d %v", code, body)
		}
		if n := idp.PasscodesChecked("ann"); n != 0 {
			t.Fatalf("PasscodesChecked = %d for a user without TOTP", n)
		}
	})
}

func TestBrokenPage(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{})
	resp, body := get(t, newClient(t), idp.BrokenURL)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "SAMLResponse") {
		t.Fatalf("broken page: %s\n%s", resp.Status, body)
	}
}

// TestResponseIsValidSAML checks a response with crewjam/saml's service provider, which
// verifies the signatures against the IdP metadata, the audience, the recipient and the times,
// as AWS would.
func TestResponseIsValidSAML(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{})
	var md saml.EntityDescriptor
	_, body := get(t, newClient(t), idp.MetadataURL)
	if err := xml.Unmarshal([]byte(body), &md); err != nil {
		t.Fatal(err)
	}
	acs, _ := url.Parse(samltest.SignInURL)
	sp := saml.ServiceProvider{
		EntityID:          samlassert.AudienceURN,
		AcsURL:            *acs,
		IDPMetadata:       &md,
		AllowIDPInitiated: true,
	}
	doc, err := base64.StdEncoding.DecodeString(idp.Response(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := sp.ParseXMLResponse(doc, nil, *acs)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		t.Fatalf("the service provider refuses the response: %v", err)
	}
	if a.Subject.NameID.Value != "alice" {
		t.Errorf("NameID = %q", a.Subject.NameID.Value)
	}
	if got := a.AttributeStatements[0].Attributes[0].Name; got != samlassert.RoleAttribute {
		t.Errorf("first attribute = %q, want the Role attribute (moto reads only a first one)", got)
	}

	// Tampering breaks the signature.
	tampered := strings.Replace(string(doc), "awskeep-saml", "awskeep-root", 1)
	if _, err := sp.ParseXMLResponse([]byte(tampered), nil, *acs); err == nil {
		t.Fatal("the service provider accepted a tampered response")
	}
}

func TestAssertionOptions(t *testing.T) {
	now := time.Now()
	many := []samlassert.Role{samltest.AWSRole("111111111111", "a", "p"), samltest.AWSRole("111111111111", "b", "p")}
	tests := []struct {
		name  string
		opts  samltest.Options
		user  string
		check func(t *testing.T, a *samlassert.Assertion, err error)
	}{
		{"principal first", samltest.Options{PrincipalFirst: true, Roles: many}, "alice", func(t *testing.T, a *samlassert.Assertion, err error) {
			if err != nil || len(a.Roles) != 2 || a.Roles[1] != many[1] {
				t.Fatalf("%v %v", a, err)
			}
		}},
		{"no roles for one user", samltest.Options{UserRoles: map[string][]samlassert.Role{"carol": nil}}, "carol", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrNoRoles) {
				t.Fatal(err)
			}
		}},
		{"expired", samltest.Options{Now: func() time.Time { return now.Add(-time.Hour) }}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrExpired) {
				t.Fatal(err)
			}
		}},
		{"negative validity", samltest.Options{Validity: -10 * time.Minute}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrExpired) {
				t.Fatal(err)
			}
		}},
		{"not yet valid", samltest.Options{Now: func() time.Time { return now.Add(time.Hour) }}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrNotYetValid) {
				t.Fatal(err)
			}
		}},
		{"long validity", samltest.Options{Validity: time.Hour}, "alice", func(t *testing.T, a *samlassert.Assertion, err error) {
			if err != nil || a.NotOnOrAfter.Sub(now) < 59*time.Minute {
				t.Fatalf("%v %v", a, err)
			}
		}},
		{"other audience", samltest.Options{Audience: "https://example.com/app"}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrNotForAWS) {
				t.Fatal(err)
			}
		}},
		{"encrypted", samltest.Options{EncryptAssertion: true}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrEncrypted) {
				t.Fatal(err)
			}
		}},
		{"session attributes", samltest.Options{SessionName: "alice.smith", SessionDuration: 3600 * time.Second}, "alice", func(t *testing.T, a *samlassert.Assertion, err error) {
			if err != nil || a.RoleSessionName != "alice.smith" || a.SessionDuration != time.Hour {
				t.Fatalf("%v %v", a, err)
			}
		}},
		{"no session name", samltest.Options{NoSessionName: true}, "alice", func(t *testing.T, a *samlassert.Assertion, err error) {
			if err != nil || a.RoleSessionName != "" {
				t.Fatalf("%v %v", a, err)
			}
		}},
		{"modify", samltest.Options{Modify: func(_ string, a *saml.Assertion) { a.Conditions = nil }}, "alice", func(t *testing.T, _ *samlassert.Assertion, err error) {
			if !errors.Is(err, samlassert.ErrNotForAWS) {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := samltest.Start(t, tc.opts)
			a, err := samlassert.Parse(idp.Response(t, tc.user), now)
			tc.check(t, a, err)
		})
	}
}

func TestErrorResponse(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{})
	_, err := samlassert.Parse(idp.ErrorResponse(t, saml.StatusResponder, saml.StatusAuthnFailed, "user disabled"), time.Now())
	if !errors.Is(err, samlassert.ErrIdPStatus) || !strings.Contains(err.Error(), "Responder/AuthnFailed") || !strings.Contains(err.Error(), "user disabled") {
		t.Fatal(err)
	}
}

// TestHandle mounts a handler of another login method, as an SPNEGO test would.
func TestHandle(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{})
	idp.Handle("GET /kerberos/sso", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idp.SSOPage(w, r, "alice@EXAMPLE.COM")
	}))
	_, body := get(t, newClient(t), idp.URL+"/kerberos/sso")
	a, err := samlassert.Parse(samlResponse(t, body), time.Now())
	if err != nil || a.RoleSessionName != "alice@EXAMPLE.COM" {
		t.Fatalf("%v %v", a, err)
	}
}

func TestConcurrentLogins(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": "pw"}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body, err := postJSON(idp.URL+"/api/v1/authn", map[string]string{"username": "alice", "password": "pw"})
			if err != nil || status != http.StatusOK {
				t.Errorf("%d %v %v", status, body, err)
				return
			}
			resp, err := http.Get(idp.OktaAppURL + "?sessionToken=" + url.QueryEscape(body["sessionToken"].(string)))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("app URL: %s", resp.Status)
			}
		}()
	}
	wg.Wait()
}
