package samlassert_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samltest"
)

// handXML is a response as IdPs write it, valid at handNow: two roles (one written
// "principal, role"), a session name and duration, NotOnOrAfter 12:05 in the Conditions and
// 12:04 in the SubjectConfirmationData.
const handXML = `<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1" Version="2.0" IssueInstant="2026-01-01T12:00:00Z" Destination="https://signin.aws.amazon.com/saml">
  <saml:Issuer>https://idp.example.com/saml</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="a1" Version="2.0" IssueInstant="2026-01-01T12:00:00Z">
    <saml:Issuer>https://idp.example.com/saml</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2026-01-01T12:04:00Z" Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="2026-01-01T11:59:00Z" NotOnOrAfter="2026-01-01T12:05:00Z">
      <saml:AudienceRestriction><saml:Audience>urn:amazon:webservices</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
        <saml:AttributeValue>arn:aws:iam::111111111111:role/admin,arn:aws:iam::111111111111:saml-provider/corp</saml:AttributeValue>
        <saml:AttributeValue>arn:aws:iam::222222222222:saml-provider/corp, arn:aws:iam::222222222222:role/dev/read-only</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>3600</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>
`

var handNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

var (
	admin    = samlassert.Role{RoleARN: "arn:aws:iam::111111111111:role/admin", PrincipalARN: "arn:aws:iam::111111111111:saml-provider/corp"}
	readOnly = samlassert.Role{RoleARN: "arn:aws:iam::222222222222:role/dev/read-only", PrincipalARN: "arn:aws:iam::222222222222:saml-provider/corp"}
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// edit returns handXML with each old replaced by new, failing if old is absent.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	doc := handXML
	for k := 0; k < len(pairs); k += 2 {
		if !strings.Contains(doc, pairs[k]) {
			t.Fatalf("edit: %q not in the document", pairs[k])
		}
		doc = strings.ReplaceAll(doc, pairs[k], pairs[k+1])
	}
	return doc
}

const roleAttrStart = `<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">`

func roleAttr(values ...string) string {
	var b strings.Builder
	b.WriteString(roleAttrStart)
	for _, v := range values {
		b.WriteString("<saml:AttributeValue>" + v + "</saml:AttributeValue>")
	}
	return b.String() + "</saml:Attribute>"
}

// handRoles is the whole Role attribute of handXML.
func handRoles() string {
	start := strings.Index(handXML, roleAttrStart)
	end := strings.Index(handXML[start:], "</saml:Attribute>") + start + len("</saml:Attribute>")
	return handXML[start:end]
}

var sentinels = []error{
	samlassert.ErrMalformed, samlassert.ErrIdPStatus, samlassert.ErrEncrypted, samlassert.ErrExpired,
	samlassert.ErrNotYetValid, samlassert.ErrNotForAWS, samlassert.ErrNoRoles, samlassert.ErrChooseRole,
	samlassert.ErrRoleNotFound,
}

// checkError requires an error of Parse to match want and no other sentinel, to be one
// line, to start with "SAML response: " and to hold the given texts.
func checkError(t *testing.T, err, want error, texts ...string) {
	t.Helper()
	checkErrorPrefix(t, err, want, "SAML response: ", texts...)
}

// checkPickError is checkError for PickRole, whose errors have no prefix: the caller names
// the setting that chose the role.
func checkPickError(t *testing.T, err, want error, texts ...string) {
	t.Helper()
	checkErrorPrefix(t, err, want, "", texts...)
	if strings.Contains(err.Error(), "SAML response") {
		t.Errorf("PickRole's error %q speaks of the response", err)
	}
}

func checkErrorPrefix(t *testing.T, err, want error, prefix string, texts ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v also matches %v", err, s)
		}
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q lacks the prefix %q", msg, prefix)
	}
	for _, s := range texts {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
}

func TestParseHandWritten(t *testing.T) {
	tests := []struct {
		name  string
		input func(t *testing.T) string
		now   time.Time
		want  error    // nil: success
		texts []string // in the error
		check func(t *testing.T, a *samlassert.Assertion)
	}{
		{name: "valid", input: func(*testing.T) string { return b64(handXML) }, check: func(t *testing.T, a *samlassert.Assertion) {
			if len(a.Roles) != 2 || a.Roles[0] != admin || a.Roles[1] != readOnly {
				t.Errorf("roles = %+v", a.Roles)
			}
			if a.RoleSessionName != "alice@example.com" || a.SessionDuration != time.Hour || a.Issuer != "https://idp.example.com/saml" {
				t.Errorf("attributes = %q %v %q", a.RoleSessionName, a.SessionDuration, a.Issuer)
			}
			if !a.NotBefore.Equal(handNow.Add(-time.Minute)) || !a.NotOnOrAfter.Equal(handNow.Add(4*time.Minute)) {
				t.Errorf("window = %s .. %s, want 11:59 .. 12:04 (the earlier NotOnOrAfter)", a.NotBefore, a.NotOnOrAfter)
			}
			if a.Encoded() != b64(handXML) {
				t.Error("Encoded is not the input")
			}
		}},
		{name: "wrapped base64", input: func(*testing.T) string {
			s := b64(handXML)
			var b strings.Builder
			for len(s) > 76 {
				b.WriteString(s[:76] + "\r\n")
				s = s[76:]
			}
			return "\n  " + b.String() + s + " \n"
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			if a.Encoded() != b64(handXML) {
				t.Error("Encoded keeps the line breaks")
			}
		}},
		{name: "within skew after expiry", now: handNow.Add(6*time.Minute + 59*time.Second), input: func(*testing.T) string { return b64(handXML) }},
		{name: "expired", now: handNow.Add(7 * time.Minute), input: func(*testing.T) string { return b64(handXML) },
			want: samlassert.ErrExpired, texts: []string{"expired at 2026-01-01T12:04:00Z", "log in at the IdP again"}},
		{name: "within skew before start", now: handNow.Add(-4 * time.Minute), input: func(*testing.T) string { return b64(handXML) }},
		{name: "not yet valid", now: handNow.Add(-4*time.Minute - time.Second), input: func(*testing.T) string { return b64(handXML) },
			want: samlassert.ErrNotYetValid, texts: []string{"valid from 2026-01-01T11:59:00Z", "clock"}},
		{name: "byte order mark", input: func(*testing.T) string { return b64("\ufeff" + handXML) }},
		{name: "no times", input: func(t *testing.T) string {
			return b64(edit(t, ` NotBefore="2026-01-01T11:59:00Z" NotOnOrAfter="2026-01-01T12:05:00Z"`, "", ` NotOnOrAfter="2026-01-01T12:04:00Z"`, ""))
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			if !a.NotBefore.IsZero() || !a.NotOnOrAfter.IsZero() {
				t.Errorf("window = %s .. %s, want zero", a.NotBefore, a.NotOnOrAfter)
			}
		}},
		{name: "IdP error status", input: func(t *testing.T) string {
			return b64(edit(t, `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>`,
				`<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode><samlp:StatusMessage>User is not
assigned</samlp:StatusMessage>`))
		}, want: samlassert.ErrIdPStatus, texts: []string{`"Responder/RequestDenied"`, `"User is not\nassigned"`}},
		{name: "no status code", input: func(t *testing.T) string {
			return b64(edit(t, `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>`, ""))
		}, want: samlassert.ErrMalformed, texts: []string{"no status code"}},
		{name: "encrypted", input: func(t *testing.T) string {
			start := strings.Index(handXML, "<saml:Assertion ")
			end := strings.Index(handXML, "</saml:Assertion>") + len("</saml:Assertion>")
			return b64(handXML[:start] + `<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>` + handXML[end:])
		}, want: samlassert.ErrEncrypted, texts: []string{"encrypted", "turn off"}},
		{name: "no assertion", input: func(t *testing.T) string {
			start := strings.Index(handXML, "<saml:Assertion ")
			end := strings.Index(handXML, "</saml:Assertion>") + len("</saml:Assertion>")
			return b64(handXML[:start] + handXML[end:])
		}, want: samlassert.ErrMalformed, texts: []string{"no assertion"}},
		{name: "two assertions", input: func(t *testing.T) string {
			start := strings.Index(handXML, "<saml:Assertion ")
			end := strings.Index(handXML, "</saml:Assertion>") + len("</saml:Assertion>")
			return b64(handXML[:end] + handXML[start:end] + handXML[end:])
		}, want: samlassert.ErrMalformed, texts: []string{"2 assertions"}},
		{name: "audience of another app", input: func(t *testing.T) string {
			return b64(edit(t, "<saml:Audience>urn:amazon:webservices</saml:Audience>", "<saml:Audience>https://jira.example.com/saml</saml:Audience>"))
		}, want: samlassert.ErrNotForAWS, texts: []string{`"https://jira.example.com/saml"`, "urn:amazon:webservices"}},
		{name: "audience sign-in URL", input: func(t *testing.T) string {
			return b64(edit(t, "<saml:Audience>urn:amazon:webservices</saml:Audience>", "<saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience>"))
		}},
		{name: "audience regional, among others", input: func(t *testing.T) string {
			return b64(edit(t, "<saml:Audience>urn:amazon:webservices</saml:Audience>",
				"<saml:Audience>https://other.example.com</saml:Audience><saml:Audience>https://eu-west-1.signin.aws.amazon.com/saml</saml:Audience>"))
		}},
		{name: "two restrictions, one not AWS", input: func(t *testing.T) string {
			return b64(edit(t, "</saml:AudienceRestriction>", "</saml:AudienceRestriction><saml:AudienceRestriction><saml:Audience>https://other.example.com</saml:Audience></saml:AudienceRestriction>"))
		}, want: samlassert.ErrNotForAWS},
		{name: "no audience", input: func(t *testing.T) string {
			return b64(edit(t, "<saml:AudienceRestriction><saml:Audience>urn:amazon:webservices</saml:Audience></saml:AudienceRestriction>", ""))
		}, want: samlassert.ErrNotForAWS, texts: []string{"names no audience"}},
		{name: "no role attribute", input: func(t *testing.T) string { return b64(edit(t, handRoles(), "")) },
			want: samlassert.ErrNoRoles, texts: []string{"no https://aws.amazon.com/SAML/Attributes/Role attribute"}},
		{name: "malformed role values", input: func(t *testing.T) string {
			return b64(edit(t, handRoles(), roleAttr(
				"arn:aws:iam::111111111111:role/admin",
				"arn:aws:iam::111111111111:role/a,arn:aws:iam::111111111111:role/b",
				"arn:aws:iam::111111111111:role/a,arn:aws:iam::111111111111:saml-provider/p,x",
				"arn:aws:iam::1111:role/a,arn:aws:iam::1111:saml-provider/p",
				"arn:aws:sts::111111111111:role/a,arn:aws:iam::111111111111:saml-provider/p",
				"arn:aws:iam::111111111111:role/,arn:aws:iam::111111111111:saml-provider/p",
				"admin,corp",
			)))
		}, want: samlassert.ErrNoRoles, texts: []string{"none of the 7 values"}},
		{name: "one good role among bad ones, duplicates", input: func(t *testing.T) string {
			return b64(edit(t, handRoles(), roleAttr(
				"garbage",
				"arn:aws-cn:iam::111111111111:saml-provider/corp,arn:aws-cn:iam::111111111111:role/cn",
				" arn:aws-cn:iam::111111111111:role/cn , arn:aws-cn:iam::111111111111:saml-provider/corp ",
			)))
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			want := samlassert.Role{RoleARN: "arn:aws-cn:iam::111111111111:role/cn", PrincipalARN: "arn:aws-cn:iam::111111111111:saml-provider/corp"}
			if len(a.Roles) != 1 || a.Roles[0] != want {
				t.Errorf("roles = %+v", a.Roles)
			}
		}},
		{name: "roles in two attributes", input: func(t *testing.T) string {
			return b64(edit(t, handRoles(), roleAttr(admin.RoleARN+","+admin.PrincipalARN)+roleAttr(readOnly.PrincipalARN+","+readOnly.RoleARN)))
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			if len(a.Roles) != 2 {
				t.Errorf("roles = %+v", a.Roles)
			}
		}},
		{name: "duration not seconds", input: func(t *testing.T) string {
			return b64(edit(t, "<saml:AttributeValue>3600</saml:AttributeValue>", "<saml:AttributeValue>1h</saml:AttributeValue>"))
		}, want: samlassert.ErrMalformed, texts: []string{"SessionDuration"}},
		{name: "no session name or duration", input: func(t *testing.T) string {
			return b64(edit(t,
				`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>`, "",
				`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>3600</saml:AttributeValue></saml:Attribute>`, ""))
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			if a.RoleSessionName != "" || a.SessionDuration != 0 {
				t.Errorf("attributes = %q %v", a.RoleSessionName, a.SessionDuration)
			}
		}},
		{name: "issuer only on the response", input: func(t *testing.T) string {
			return b64(edit(t, `<saml:Assertion ID="a1" Version="2.0" IssueInstant="2026-01-01T12:00:00Z">
    <saml:Issuer>https://idp.example.com/saml</saml:Issuer>`, `<saml:Assertion ID="a1" Version="2.0" IssueInstant="2026-01-01T12:00:00Z">`))
		}, check: func(t *testing.T, a *samlassert.Assertion) {
			if a.Issuer != "https://idp.example.com/saml" {
				t.Errorf("issuer = %q", a.Issuer)
			}
		}},
		{name: "empty", input: func(*testing.T) string { return " \n" }, want: samlassert.ErrMalformed, texts: []string{"empty"}},
		{name: "not base64", input: func(*testing.T) string { return "not*base64" }, want: samlassert.ErrMalformed, texts: []string{"not base64"}},
		{name: "URL-encoded", input: func(*testing.T) string { return strings.ReplaceAll(b64(handXML), "+", "%2B") + "%3D" },
			want: samlassert.ErrMalformed, texts: []string{"URL-encoded"}},
		{name: "base64url", input: func(*testing.T) string { return base64.URLEncoding.EncodeToString([]byte(handXML + "\xfb\xff")) },
			want: samlassert.ErrMalformed, texts: []string{"base64url"}},
		{name: "HTML page", input: func(*testing.T) string { return b64("<html><body><form></form></body></html>") },
			want: samlassert.ErrMalformed, texts: []string{"HTML page"}},
		{name: "not XML", input: func(*testing.T) string { return b64("just some text") },
			want: samlassert.ErrMalformed, texts: []string{"not XML"}},
		{name: "another SAML message", input: func(*testing.T) string {
			return b64(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`)
		}, want: samlassert.ErrMalformed, texts: []string{`"AuthnRequest"`}},
		{name: "SAML 1.1 response", input: func(*testing.T) string {
			return b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol"/>`)
		}, want: samlassert.ErrMalformed, texts: []string{"SAML 2.0"}},
		{name: "DOCTYPE", input: func(*testing.T) string {
			return b64(strings.Replace(handXML, "?>\n", "?>\n<!DOCTYPE r [<!ENTITY e \"x\">]>\n", 1))
		}, want: samlassert.ErrMalformed, texts: []string{"DOCTYPE"}},
		{name: "cut short", input: func(*testing.T) string { return b64(handXML[:len(handXML)/2]) },
			want: samlassert.ErrMalformed, texts: []string{"cut short"}},
		{name: "not well-formed", input: func(*testing.T) string { return b64(strings.Replace(handXML, "</saml:Subject>", "</saml:Subjekt>", 1)) },
			want: samlassert.ErrMalformed, texts: []string{"not well-formed XML (line"}},
		{name: "bad time", input: func(t *testing.T) string {
			return b64(edit(t, `NotBefore="2026-01-01T11:59:00Z"`, `NotBefore="yesterday"`))
		}, want: samlassert.ErrMalformed, texts: []string{"xs:dateTime"}},
		{name: "trailing element", input: func(*testing.T) string { return b64(handXML + "<x/>") },
			want: samlassert.ErrMalformed, texts: []string{"after the Response"}},
		{name: "too large", input: func(*testing.T) string { return strings.Repeat("A", samlassert.MaxResponseSize+4) },
			want: samlassert.ErrMalformed, texts: []string{"more than"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = handNow
			}
			in := tc.input(t)
			a, err := samlassert.Parse(in, now)
			if tc.want != nil {
				if a != nil {
					t.Errorf("Parse returned an assertion with error %v", err)
				}
				checkError(t, err, tc.want, tc.texts...)
				noLeak(t, err.Error(), in)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

// noLeak fails if text holds the response or its decoded XML.
func noLeak(t *testing.T, text, input string) {
	t.Helper()
	encoded := strings.Join(strings.Fields(input), "")
	if len(encoded) >= 16 && strings.Contains(text, encoded) {
		t.Errorf("%q holds the SAMLResponse", text)
	}
	if doc, err := base64.StdEncoding.DecodeString(encoded); err == nil && len(doc) >= 16 && strings.Contains(text, string(doc)) {
		t.Errorf("%q holds the decoded SAMLResponse", text)
	}
}

func TestParseSamltest(t *testing.T) {
	now := time.Now()
	several := []samlassert.Role{admin, readOnly}
	tests := []struct {
		name  string
		opts  samltest.Options
		user  string
		want  error
		check func(t *testing.T, idp *samltest.IdP, a *samlassert.Assertion)
	}{
		{name: "default", check: func(t *testing.T, idp *samltest.IdP, a *samlassert.Assertion) {
			if len(a.Roles) != 1 || a.Roles[0] != samltest.DefaultRole || a.RoleSessionName != "alice" || a.Issuer != idp.MetadataURL {
				t.Errorf("assertion = %v", a)
			}
			if d := a.NotOnOrAfter.Sub(now); d < 4*time.Minute || d > 6*time.Minute {
				t.Errorf("valid for %s, want about 5 minutes", d)
			}
		}},
		{name: "several roles", opts: samltest.Options{Roles: several, SessionDuration: 12 * time.Hour}, check: func(t *testing.T, _ *samltest.IdP, a *samlassert.Assertion) {
			if len(a.Roles) != 2 || a.Roles[0] != admin || a.Roles[1] != readOnly || a.SessionDuration != 12*time.Hour {
				t.Errorf("assertion = %v", a)
			}
		}},
		{name: "principal first", opts: samltest.Options{Roles: several, PrincipalFirst: true}, check: func(t *testing.T, _ *samltest.IdP, a *samlassert.Assertion) {
			if len(a.Roles) != 2 || a.Roles[0] != admin || a.Roles[1] != readOnly {
				t.Errorf("roles = %+v", a.Roles)
			}
		}},
		{name: "Entra ID audience", opts: samltest.Options{Audience: "https://signin.aws.amazon.com/saml#2"}},
		{name: "no roles", opts: samltest.Options{Roles: []samlassert.Role{}}, want: samlassert.ErrNoRoles},
		{name: "no roles for this user", opts: samltest.Options{UserRoles: map[string][]samlassert.Role{"alice": nil}}, want: samlassert.ErrNoRoles},
		{name: "expired", opts: samltest.Options{Now: func() time.Time { return now.Add(-10 * time.Minute) }}, want: samlassert.ErrExpired},
		{name: "not yet valid", opts: samltest.Options{Now: func() time.Time { return now.Add(10 * time.Minute) }}, want: samlassert.ErrNotYetValid},
		{name: "other application", opts: samltest.Options{Audience: "https://salesforce.example.com"}, want: samlassert.ErrNotForAWS},
		{name: "encrypted", opts: samltest.Options{EncryptAssertion: true}, want: samlassert.ErrEncrypted},
		{name: "bad session duration", opts: samltest.Options{Modify: func(_ string, a *saml.Assertion) {
			attrs := a.AttributeStatements[0].Attributes
			attrs = append(attrs, saml.Attribute{Name: samlassert.SessionDurationAttribute, Values: []saml.AttributeValue{{Value: "-5"}}})
			a.AttributeStatements[0].Attributes = attrs
		}}, want: samlassert.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := samltest.Start(t, tc.opts)
			in := idp.Response(t, "alice")
			a, err := samlassert.Parse(in, now)
			if tc.want != nil {
				checkError(t, err, tc.want)
				noLeak(t, err.Error(), in)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Encoded() != in {
				t.Error("Encoded is not the response")
			}
			if tc.check != nil {
				tc.check(t, idp, a)
			}
		})
	}

	t.Run("IdP error", func(t *testing.T) {
		idp := samltest.Start(t, samltest.Options{})
		_, err := samlassert.Parse(idp.ErrorResponse(t, saml.StatusRequester, saml.StatusRequestDenied, "not assigned"), now)
		checkError(t, err, samlassert.ErrIdPStatus, "Requester/RequestDenied", `"not assigned"`)
	})
}

func TestPickRole(t *testing.T) {
	a, err := samlassert.Parse(b64(handXML), handNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PickRole(""); true {
		checkPickError(t, err, samlassert.ErrChooseRole, "the assertion offers 2 roles, choose one: "+admin.RoleARN+", "+readOnly.RoleARN)
	}
	r, err := a.PickRole(" " + readOnly.RoleARN + " ")
	if err != nil || r != readOnly {
		t.Fatalf("PickRole(read-only) = %+v, %v", r, err)
	}
	_, err = a.PickRole("arn:aws:iam::111111111111:role/root")
	checkPickError(t, err, samlassert.ErrRoleNotFound, "role arn:aws:iam::111111111111:role/root is not in the assertion; it offers: "+admin.RoleARN+", "+readOnly.RoleARN)
	_, err = a.PickRole("evil\nrole")
	checkPickError(t, err, samlassert.ErrRoleNotFound, `"evil\nrole"`)

	one := &samlassert.Assertion{Roles: []samlassert.Role{admin}}
	if r, err := one.PickRole(""); err != nil || r != admin {
		t.Fatalf("PickRole of the only role = %+v, %v", r, err)
	}
	_, err = (&samlassert.Assertion{}).PickRole("")
	checkPickError(t, err, samlassert.ErrNoRoles, "the assertion offers no role")
}

// TestNoLeak prints the assertion every way a caller might and looks for the response.
func TestNoLeak(t *testing.T) {
	in := b64(handXML)
	a, err := samlassert.Parse(in, handNow)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "assertion", a, "value", *a)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("login", "assertion", a)
	js, _ := json.Marshal(a)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", a), "%+v": fmt.Sprintf("%+v", a), "%#v": fmt.Sprintf("%#v", a),
		"value %v": fmt.Sprintf("%v", *a), "value %+v": fmt.Sprintf("%+v", *a), "value %#v": fmt.Sprintf("%#v", *a),
		"slog": logged.String(), "json": string(js),
	}
	for how, out := range outputs {
		if strings.Contains(out, in[:40]) {
			t.Errorf("%s prints the response: %s", how, out)
		}
	}
	if s := a.String(); !strings.Contains(s, admin.RoleARN) || !strings.Contains(s, "2026-01-01T12:04:00Z") {
		t.Errorf("String = %q", s)
	}
	if !strings.Contains(logged.String(), `"roles":["`+admin.RoleARN) {
		t.Errorf("slog = %s", logged.String())
	}
}

func TestIsAWSAudience(t *testing.T) {
	for aud, want := range map[string]bool{
		"urn:amazon:webservices":                              true,
		" urn:amazon:webservices ":                            true,
		"urn:amazon:webservices:cn-north-1":                   true,
		"urn:amazon:webservices:govcloud":                     true,
		"https://signin.aws.amazon.com/saml":                  true,
		"https://us-east-2.signin.aws.amazon.com/saml":        true,
		"https://signin.aws.amazon.com/saml#2":                true,
		"https://signin.amazonaws.cn/saml":                    true,
		"https://cn-northwest-1.signin.amazonaws.cn/saml":     true,
		"https://signin.amazonaws-us-gov.com/saml":            true,
		"urn:amazon:webservicesX":                             false,
		"urn:amazon:webservices:":                             false,
		"urn:amazon:webservices:Bad Region":                   false,
		"http://signin.aws.amazon.com/saml":                   false,
		"https://signin.aws.amazon.com/saml/acs/x":            false,
		"https://evil.com/signin.aws.amazon.com/saml":         false,
		"https://evil.example.com.signin.aws.amazon.com/saml": false,
		"https://signin.aws.amazon.com.evil.com/saml":         false,
		"https://.signin.aws.amazon.com/saml":                 false,
		"":                                                    false,
	} {
		if got := samlassert.IsAWSAudience(aud); got != want {
			t.Errorf("IsAWSAudience(%q) = %v, want %v", aud, got, want)
		}
	}
}
