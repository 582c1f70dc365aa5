package samlidp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// FuzzExtractSAMLResponse feeds arbitrary pages to the extraction, and arbitrary values
// through the POST binding form an IdP writes, which must come back as they went in
// (without white space). Seeds: testdata/fuzz/FuzzExtractSAMLResponse.
func FuzzExtractSAMLResponse(f *testing.F) {
	f.Add([]byte(`<form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="PHNhbWw+"/></form>`), "PHNhbWw+PQ==")
	f.Add([]byte("<textarea name=SAMLResponse>\nQUJD</textarea>"), "a b\r\nc")
	f.Add([]byte(`<table><form><input name="SAMLResponse" value="&amp;&#0;"></form></table>`), `"'<>&`)
	f.Fuzz(func(t *testing.T, page []byte, value string) {
		if v, ok := extractSAMLResponse(parseHTML(page)); ok != (v != "") || strings.ContainsAny(v, " \t\r\n\f\v") {
			t.Fatalf("extractSAMLResponse = %q, %v", v, ok)
		}
		if !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
			return // the parser replaces these, as a browser would
		}
		doc := `<!DOCTYPE html><html><body onload="document.forms[0].submit()"><form method="post" action="https://signin.aws.amazon.com/saml">` +
			`<input type="hidden" name="SAMLResponse" value="` + html.EscapeString(value) + `"/><input type="hidden" name="RelayState" value=""/></form></body></html>`
		want := stripSpace(value)
		got, ok := extractSAMLResponse(parseHTML([]byte(doc)))
		if got != want || ok != (want != "") {
			t.Fatalf("extractSAMLResponse = %q, %v; want %q", got, ok, want)
		}
	})
}

// FuzzFindLoginForm feeds arbitrary pages to the form parser and heuristics: whatever
// login form is found, its submission must carry the password in the password field and
// the username in the username field. Seeds: testdata/fuzz/FuzzFindLoginForm.
func FuzzFindLoginForm(f *testing.F) {
	f.Add(`<form method="post" action="/adfs/ls/?client-request-id=1"><input id="userNameInput" name="UserName" type="email"><input name="Password" type="password"><input type="hidden" name="AuthMethod" value="FormsAuthentication"></form>`, "alice", "pw")
	f.Add(`<form action="/idp/profile/SAML2/Unsolicited/SSO?execution=e1s2" method="post"><input name="j_username"><input name="j_password" type="password"><button type="submit" name="_eventId_proceed">Login</button></form>`, "bob@example.com", "p&w=1")
	f.Add(`<table><form method=post><tr><td><input name=u><td><input type=password name=p></form></table>`, "", "x")
	f.Add(`<form id=f enctype="multipart/form-data" method=post></form><input form=f name=user><input form=f type=password name=pw>`, "a", "b")
	page, _ := url.Parse("https://idp.example.com/login?x=1")
	f.Fuzz(func(t *testing.T, doc, user, pw string) {
		root := parseHTML([]byte(doc))
		forms := parseForms(root)
		_ = errorText(root)
		_ = title(root)
		_ = findAutoSubmitForm(forms)
		findCodeForm(forms)
		findIdentifierForm(forms)
		form, u, p := findLoginForm(forms)
		if form == nil {
			return
		}
		if p.typ != "password" || !p.usable() || !slices.Contains(form.controls, p) {
			t.Fatalf("password field %+v", p)
		}
		fill := map[*control]string{p: pw}
		if u != nil {
			if u == p || !u.textLike() || !u.usable() || !slices.Contains(form.controls, u) {
				t.Fatalf("username field %+v", u)
			}
			fill[u] = user
		}
		sub, err := form.submit(page, fill)
		if err != nil {
			return // an action that is not a URL
		}
		var encoded string
		switch {
		case sub.method == "GET":
			encoded = sub.url.RawQuery
		case strings.HasPrefix(sub.contentType, "application/x-www-form-urlencoded"):
			encoded = sub.body
		default:
			return
		}
		values, err := url.ParseQuery(encoded)
		if err != nil {
			t.Fatalf("the submission does not parse: %v: %q", err, encoded)
		}
		if !slices.Contains(values[p.name], pw) {
			t.Fatalf("password field %q holds %q, not the password", p.name, values[p.name])
		}
		if u != nil && !slices.Contains(values[u.name], user) {
			t.Fatalf("username field %q holds %q, not the username", u.name, values[u.name])
		}
	})
}

// oktaFuzzPassword is the password FuzzOktaAnswers logs in with: whatever Okta answers,
// even a body that repeats it, no error may show it.
const oktaFuzzPassword = "fuzz-okta-pw-secret"

// FuzzOktaAnswers feeds arbitrary Authentication API answers to the Okta login: status and
// body of the first answer (POST /api/v1/authn), then one body for every later request
// (factor verify, push poll, skip, the app page), "ORIGIN" standing for the server's
// origin so that links can point back at it. The login must end by its context's deadline
// (no panic, no endless loop), and no error may show the password (in any letter case: Okta
// codes are upper-cased) or a URL with the session token.
// Seeds: the f.Add calls (Okta's documented answers; an error summary and a status that
// repeat the password; the status one showed it, upper-cased, until the code was scrubbed).
func FuzzOktaAnswers(f *testing.F) {
	f.Add(uint16(200), []byte(`{"status":"SUCCESS","sessionToken":"sess-TOKEN-1"}`), []byte(`<form method="post"><input name="SAMLResponse" value="PHNhbWw+"></form>`))
	f.Add(uint16(401), []byte(`{"errorCode":"E0000004","errorSummary":"Authentication failed","errorCauses":[]}`), []byte(``))
	f.Add(uint16(403), []byte(`{"errorCode":"E0000119","errorSummary":"Your account is locked fuzz-okta-pw-secret"}`), []byte(``))
	f.Add(uint16(200), []byte(`{"status":"LOCKED_OUT"}`), []byte(``))
	f.Add(uint16(200), []byte(`{"status":"MFA_REQUIRED","stateToken":"st-1","_embedded":{"factors":[{"id":"t1","factorType":"token:software:totp","provider":"GOOGLE","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/t1/verify"}}}]}}`),
		[]byte(`{"errorCode":"E0000068","errorSummary":"Invalid Passcode/Answer","errorCauses":[{"errorSummary":"Your passcode doesn't match our records. Please try again."}]}`))
	f.Add(uint16(200), []byte(`{"status":"MFA_REQUIRED","stateToken":"st-1","_embedded":{"factors":[{"id":"p1","factorType":"push","provider":"OKTA","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/p1/verify"}}}]}}`),
		[]byte(`{"status":"MFA_CHALLENGE","stateToken":"st-2","factorResult":"WAITING","_links":{"next":{"name":"poll","href":"ORIGIN/api/v1/authn/factors/p1/verify/poll"}}}`))
	f.Add(uint16(200), []byte(`{"status":"PASSWORD_WARN","stateToken":"st-1","_links":{"skip":{"href":"ORIGIN/api/v1/authn/skip"}}}`), []byte(`{"status":"PASSWORD_WARN","stateToken":"st-1","_links":{"skip":{"href":"ORIGIN/api/v1/authn/skip"}}}`))
	f.Add(uint16(200), []byte(`{"status":"fuzz-okta-pw-secret"}`), []byte(``))
	f.Add(uint16(500), []byte(`not json`), []byte(``))

	var (
		mu            sync.Mutex
		status        int
		first, second []byte
		calls         int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code, body := status, first
		if calls > 0 {
			code, body = http.StatusOK, second
		}
		calls++
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(code)
		_, _ = w.Write(bytes.ReplaceAll(body, []byte("ORIGIN"), []byte("http://"+r.Host)))
	}))
	f.Cleanup(srv.Close)
	okta := Okta{Notify: func(string) {}, PollInterval: time.Millisecond}

	f.Fuzz(func(t *testing.T, code uint16, a, b []byte) {
		if code < 200 || code > 599 || code == http.StatusNoContent || code == http.StatusNotModified || (code >= 300 && code < 400) {
			code = http.StatusOK
		}
		mu.Lock()
		status, first, second, calls = int(code), a, b, 0
		mu.Unlock()
		// A push that stays WAITING is polled until ctx ends, as credential_process's
		// --timeout ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := okta.Login(ctx, Login{
			URL:      srv.URL + "/app/amazon_aws/exk1/sso/saml",
			Username: "alice",
			Password: func(context.Context) (string, error) { return oktaFuzzPassword, nil },
			MFACode:  func(context.Context) (string, error) { return "123456", nil },
		})
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("the login took %v, given 300ms", took)
		}
		if err == nil {
			return
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
			if strings.Contains(text, oktaFuzzPassword) || strings.Contains(strings.ToLower(text), strings.ToLower(oktaFuzzPassword)) {
				t.Fatalf("the error shows the password: %s", text)
			}
			if strings.Contains(text, "sessionToken=") {
				t.Fatalf("the error shows a URL with the session token: %s", text)
			}
		}
	})
}
