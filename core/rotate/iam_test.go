package rotate

import (
	"testing"

	"github.com/awskeep/awskeep/core/profile"
)

func TestIAMEndpoint(t *testing.T) {
	p := &profile.Profile{EndpointURL: "http://profile"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		p    *profile.Profile
		want string
	}{
		{"none: AWS's", nil, nil, ""},
		{"the profile's endpoint_url", nil, p, "http://profile"},
		{"$AWS_ENDPOINT_URL over the profile", map[string]string{"AWS_ENDPOINT_URL": "http://all"}, p, "http://all"},
		{"$AWS_ENDPOINT_URL_IAM over both", map[string]string{"AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_IAM": "http://iam"}, p, "http://iam"},
		{"ignored when asked", map[string]string{"AWS_ENDPOINT_URL_IAM": "http://iam", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, p, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IAMEndpoint(tc.p, func(k string) string { return tc.env[k] }); got != tc.want {
				t.Fatalf("IAMEndpoint = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	for _, tc := range []struct{ body, code, message string }{
		{`<ErrorResponse><Error><Code>LimitExceeded</Code><Message>Cannot exceed quota</Message></Error></ErrorResponse>`, "LimitExceeded", "Cannot exceed quota"},
		{`<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>`, "AccessDenied", "no"},
		{`<html>not xml`, "", ""},
		{``, "", ""},
	} {
		if code, msg := parseError([]byte(tc.body)); code != tc.code || msg != tc.message {
			t.Errorf("parseError(%q) = %q, %q; want %q, %q", tc.body, code, msg, tc.code, tc.message)
		}
	}
}

// FuzzParseError: parseError never panics on whatever an endpoint answers, and what it
// returns for a document it reads again gives the same result (it is a pure function).
func FuzzParseError(f *testing.F) {
	f.Add([]byte(`<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>m</Message></Error></Errors></ErrorResponse>`))
	f.Add([]byte(`<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg := parseError(body)
		if c2, m2 := parseError(body); c2 != code || m2 != msg {
			t.Fatal("parseError is not deterministic")
		}
	})
}
