package samlassert_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/samlassert"
)

// fuzzTemplate is a compact response whose fields FuzzParse fills in from its input, raw
// (markup included): status, SubjectConfirmationData NotOnOrAfter, Conditions NotBefore and
// NotOnOrAfter, audience, two role values, session name, session duration, and anything
// appended to the assertion.
const fuzzTemplate = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r" Version="2.0">` +
	`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:%s"/></samlp:Status>` +
	`<saml:Assertion ID="a" Version="2.0"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject>` +
	`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="%s"/></saml:SubjectConfirmation></saml:Subject>` +
	`<saml:Conditions NotBefore="%s" NotOnOrAfter="%s"><saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
	`<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>%s</saml:AttributeValue><saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute>` +
	`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute>` +
	`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>%s</saml:Assertion></samlp:Response>`

const fuzzFields = 10

// fuzzInput turns the fuzzer's values into a SAMLResponse. mode 0: in is the SAMLResponse;
// 1: in is the XML, base64-encoded here; 2: in holds fuzzTemplate's fields separated by "|".
// Modes 1 and 2 let mutations reach the XML reader and the checks instead of breaking the
// base64; mode 2 keeps inputs short, which keeps the fuzzer's minimization (quadratic in the
// input's length) from eating the fuzzing time.
func fuzzInput(in string, mode uint8) string {
	switch mode % 3 {
	case 1:
		return b64(in)
	case 2:
		fields := strings.SplitN(in, "|", fuzzFields)
		args := make([]any, fuzzFields)
		for k := range args {
			args[k] = ""
			if k < len(fields) {
				args[k] = fields[k]
			}
		}
		//lint:ignore SA5009 args holds one value for each verb of fuzzTemplate
		return b64(fmt.Sprintf(fuzzTemplate, args...))
	}
	return in
}

// FuzzParse: Parse never panics; an error matches exactly one sentinel, is one line and holds
// neither the response nor its decoded XML; an assertion has roles, returns the response from
// Encoded and prints without it. Seeds: below and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	const roles = "arn:aws:iam::111111111111:role/admin,arn:aws:iam::111111111111:saml-provider/corp|" +
		"arn:aws:iam::222222222222:saml-provider/corp, arn:aws:iam::222222222222:role/dev/ro"
	f.Add("Success|2026-01-01T12:04:00Z|2026-01-01T11:59:00Z|2026-01-01T12:05:00Z|urn:amazon:webservices|"+roles+"|alice|3600|", uint8(2))
	f.Add("Responder\"><samlp:StatusCode Value=\"x:AuthnFailed\"/></samlp:StatusCode><samlp:StatusMessage>no</samlp:StatusMessage><x a=\"||||||||", uint8(2))
	f.Add("Success|||2026-01-01T11:00:00Z|https://eu-west-1.signin.aws.amazon.com/saml#1|"+roles+"|||", uint8(2))
	f.Add("Success||2026-01-01T13:00:00Z||https://signin.aws.amazon.com/saml|x,y|||1h|", uint8(2))
	f.Add("Success|||||"+roles+"|||<saml:Assertion/>", uint8(2))
	f.Add(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><samlp:Status/></samlp:Response>`, uint8(1))
	f.Add("<html><body>no</body></html>", uint8(1))
	f.Add(b64("<a/>"), uint8(0))
	f.Add("", uint8(0))
	f.Add("%3D", uint8(0))

	f.Fuzz(func(t *testing.T, in string, mode uint8) {
		resp := fuzzInput(in, mode)
		a, err := samlassert.Parse(resp, handNow)
		encoded := strings.Map(func(r rune) rune {
			if strings.ContainsRune(" \t\r\n\f\v", r) {
				return -1
			}
			return r
		}, resp)
		if err != nil {
			if a != nil {
				t.Fatal("assertion and error")
			}
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			msg := err.Error()
			if n != 1 || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q matches %d sentinels", msg, n)
			}
			if len(encoded) >= 16 && strings.Contains(msg, encoded) {
				t.Fatalf("error holds the response: %q", msg)
			}
			if doc, e := base64.StdEncoding.DecodeString(encoded); e == nil && len(doc) >= 16 && strings.Contains(msg, string(doc)) {
				t.Fatalf("error holds the decoded response: %q", msg)
			}
			return
		}
		if len(a.Roles) == 0 {
			t.Fatal("assertion without roles")
		}
		if a.Encoded() != encoded {
			t.Fatal("Encoded is not the response")
		}
		printed := a.String() + fmt.Sprintf("%v %+v %#v", a, *a, a) + a.LogValue().String()
		if len(encoded) >= 16 && strings.Contains(printed, encoded) {
			t.Fatal("the assertion prints the response")
		}
		if _, err := a.PickRole(a.Roles[len(a.Roles)-1].RoleARN); err != nil {
			t.Fatalf("PickRole of its own role: %v", err)
		}
	})
}
