package awsquery

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	for _, tc := range []struct{ body, code, message string }{
		{`<ErrorResponse><Error><Code>LimitExceeded</Code><Message>Cannot exceed quota</Message></Error></ErrorResponse>`, "LimitExceeded", "Cannot exceed quota"},
		{`<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>`, "AccessDenied", "no"},
		{`<Response><Errors><Error><Code>x</Code></Error><Error><Code>y</Code></Error></Errors></Response>`, "x", ""},
		{`<html>not xml`, "", ""},
		{``, "", ""},
	} {
		if code, msg := ParseError([]byte(tc.body)); code != tc.code || msg != tc.message {
			t.Errorf("ParseError(%q) = %q, %q; want %q, %q", tc.body, code, msg, tc.code, tc.message)
		}
	}
}

// FuzzParseError: the parser never panics on whatever an endpoint answers, gives the same
// answer twice, and any code it reports comes from the document.
func FuzzParseError(f *testing.F) {
	f.Add([]byte(`<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`))
	f.Add([]byte(`<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code></Error></Errors></ErrorResponse>`))
	f.Add([]byte(`<Response><Errors><Error><Code>x</Code></Error><Error><Code>y</Code></Error></Errors></Response>`))
	f.Add([]byte(`not xml`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, message := ParseError(body)
		if c2, m2 := ParseError(body); c2 != code || m2 != message {
			t.Fatal("ParseError is not deterministic")
		}
		if code != "" && !strings.Contains(string(body), code) && !strings.Contains(string(body), "&") && !strings.Contains(string(body), "CDATA") {
			t.Fatalf("code %q is not in the document", code)
		}
	})
}

// TestPeekError: the code is read and the body is still whole for the SDK.
func TestPeekError(t *testing.T) {
	doc := `<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>`
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(doc))}
	if code, msg := PeekError(resp); code != "AccessDenied" || msg != "no" {
		t.Errorf("PeekError = %q, %q", code, msg)
	}
	if rest, _ := io.ReadAll(resp.Body); string(rest) != doc {
		t.Errorf("the body left for the SDK is %q", rest)
	}
}
