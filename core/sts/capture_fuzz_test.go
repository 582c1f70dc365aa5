package sts

import (
	"strings"
	"testing"
)

// FuzzParseError: the error document parser never panics, and whatever code it reports
// comes from the document.
func FuzzParseError(f *testing.F) {
	f.Add([]byte(`<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`))
	f.Add([]byte(`<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code></Error></Errors></ErrorResponse>`))
	f.Add([]byte(`<Response><Errors><Error><Code>x</Code></Error><Error><Code>y</Code></Error></Errors></Response>`))
	f.Add([]byte(`not xml`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, message := parseError(body)
		if code != "" && !strings.Contains(string(body), code) && !strings.Contains(string(body), "&") && !strings.Contains(string(body), "CDATA") {
			t.Fatalf("code %q is not in the document", code)
		}
		_ = message
	})
}
