package samlidp

import (
	"net/url"
	"slices"
	"strings"
	"testing"
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
