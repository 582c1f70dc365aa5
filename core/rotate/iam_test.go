package rotate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/sigv4"
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

// TestExplainIAMErrors: IAM's refusals, in the form AWS documents (IAM API Reference,
// "Common Errors"; the Query protocol's ErrorResponse), and an endpoint nobody answers on,
// become errors that name the cause, carry a sentinel and say what to do.
func TestExplainIAMErrors(t *testing.T) {
	answer := func(status int, code, msg string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, code, msg)
		}))
		t.Cleanup(s.Close)
		return s
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name     string
		endpoint string
		want     error
		says     []string
	}{
		{"access denied", answer(403, "AccessDenied", "User: arn:aws:iam::1:user/a is not authorized to perform: iam:CreateAccessKey").URL,
			ErrAccessDenied, []string{"IAM CreateAccessKey: AccessDenied", "iam:CreateAccessKey", "docs/rotate.md"}},
		{"key limit", answer(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2").URL,
			ErrKeyLimit, []string{"LimitExceeded", "at most two access keys", "aws iam delete-access-key"}},
		{"key refused", answer(403, "InvalidClientTokenId", "The security token included in the request is invalid.").URL,
			ErrKeyRefused, []string{"InvalidClientTokenId", "inactive or deleted"}},
		{"unreachable", closed.URL, ErrUnreachable, []string{"IAM unreachable", closed.URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newIAM(sigv4.SoftwareDeriver("not-a-real-secret"), "AKIATEST000000000000", "us-east-1", tc.endpoint, nil)
			_, err := api.create(context.Background(), "a", func(string, []byte) error {
				t.Fatal("create succeeded")
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}
