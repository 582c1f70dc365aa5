package sigv4

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// checkInputs rejects what would produce a signature no server can verify, with a message
// that says which argument is wrong. It never prints credentials.
func checkInputs(r *http.Request, payloadHash string, creds Credentials, service, region string, t time.Time) error {
	switch {
	case r == nil || r.URL == nil:
		return errors.New("sigv4: no request or request URL")
	case !validHeaderName(r.Method) && r.Method != "":
		return fmt.Errorf("sigv4: invalid request method %q", r.Method)
	case payloadHash == "" || !validHeaderValue(payloadHash) || strings.ContainsAny(payloadHash, " \t"):
		return errors.New("sigv4: invalid payload hash: pass the hex SHA-256 of the body, EmptyPayloadHash or UnsignedPayload")
	case !validScopePart(creds.AccessKeyID):
		return errors.New("sigv4: invalid access key ID: it must be non-empty printable ASCII without '/', ',' or spaces")
	case !validHeaderValue(creds.SessionToken):
		return errors.New("sigv4: invalid session token: it has control characters")
	case !validScopePart(service):
		return fmt.Errorf("sigv4: invalid service name %q", service)
	case !validScopePart(region):
		return fmt.Errorf("sigv4: invalid region %q", region)
	case t.IsZero():
		return errors.New("sigv4: signing time is not set")
	}
	return nil
}

// validScopePart reports whether s can go into a credential scope, which "/" separates and
// the Authorization header delimits with "," and " ".
func validScopePart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '/' || c == ',' {
			return false
		}
	}
	return true
}

// validPath reports whether a path can go on a request line and into the canonical
// request: absolute, without control characters. (A relative URL.Path such as "a" would go
// on the request line as "a", which no server accepts.) A raw space is let through because
// the AWS signing test suite signs one (the canonical URI encodes it).
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < ' ' || p[i] == 0x7f {
			return false
		}
	}
	return true
}
