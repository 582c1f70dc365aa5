package awsendpoint

import (
	"errors"
	"strings"
	"testing"
)

// FuzzInfer feeds arbitrary hosts to Infer. It must never panic and must give the same
// answer twice. A refusal is a *HostError that tells the user what to pass. An accepted
// scope is a signing name and a region that fit in a credential scope, does not depend on
// case, a trailing dot or the port, and is what the endpoint URL builds for it reads back
// as, unless URL says the signing name names no single endpoint.
func FuzzInfer(f *testing.F) {
	for _, tc := range inferCases {
		f.Add(tc.host)
	}
	for _, h := range []string{"127.0.0.1:5000", "[::1]:443", "localhost", "dkr.ecr.us-east-1.amazonaws.com",
		"x.s3-website-us-east-1.amazonaws.com", "us-gov.amazonaws.com", "global.api.aws", "ID.us-east-1.rds.amazonaws.com"} {
		f.Add(h)
	}
	f.Fuzz(checkInfer)
}

// TestInferProperties checks FuzzInfer's properties on hosts built from the labels the
// rules look at, which random bytes seldom hit.
func TestInferProperties(t *testing.T) {
	labels := []string{"x", "fips", "dualstack", "global", "us-gov", "us-east-1", "cn-north-1",
		"us-gov-west-1", "us-iso-east-1", "s3", "s3-us-west-2", "s3-external-1", "s3express-usw2-az1",
		"iot", "data", "email", "rds", "es", "queue", "iam", "health", "sdb", "dkr", "lex", "transcribe", "a-fips"}
	suffixes := []string{"amazonaws.com", "api.aws", "on.aws", "amazonaws.com.cn", "api.amazonwebservices.com.cn", "c2s.ic.gov", "example.com"}
	maxDepth := 3
	if testing.Short() {
		maxDepth = 2
	}
	n := 0
	var build func(prefix string, depth int)
	build = func(prefix string, depth int) {
		for _, s := range suffixes {
			checkInfer(t, prefix+s)
			n++
		}
		if depth == maxDepth {
			return
		}
		for _, l := range labels {
			build(prefix+l+".", depth+1)
		}
	}
	build("", 0)
	if t.Failed() {
		t.Logf("%d hosts checked", n)
	}
}

func checkInfer(t *testing.T, host string) {
	t.Helper()
	s, err := Infer(host)
	s2, err2 := Infer(host)
	if s != s2 || errText(err) != errText(err2) {
		t.Fatalf("Infer(%q) gave %+v, %v and then %+v, %v", host, s, err, s2, err2)
	}
	if err != nil {
		var he *HostError
		if !errors.As(err, &he) || !errors.Is(err, ErrUnknownHost) || he.Host != host {
			t.Fatalf("Infer(%q) error %v (%T) is not a *HostError for the host", host, err, err)
		}
		if s != (Scope{}) || !strings.HasSuffix(err.Error(), ": pass --service and --region") &&
			!strings.HasSuffix(err.Error(), "; pass --service and --region") {
			t.Fatalf("Infer(%q) = %+v, %q", host, s, err)
		}
		return
	}

	if s.Service == "" || strings.Trim(s.Service, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		t.Fatalf("Infer(%q) service %q cannot be in a credential scope", host, s.Service)
	}
	if !regionPattern.MatchString(s.Region) {
		t.Fatalf("Infer(%q) region %q does not look like a region", host, s.Region)
	}

	// Host names are case-insensitive and end in an implicit root; the port is not the
	// endpoint's name. host is ASCII here: Infer refuses anything else.
	if !strings.Contains(host, ":") {
		for _, variant := range []string{strings.ToUpper(host), strings.ToLower(host), strings.TrimSuffix(host, ".") + ".", host + ":8443"} {
			if v, err := Infer(variant); err != nil || v != s {
				t.Fatalf("Infer(%q) = %+v but Infer(%q) = %+v, %v", host, s, variant, v, err)
			}
		}
	}

	u, err := URL(s)
	if errors.Is(err, ErrNoEndpoint) {
		return
	}
	if err != nil {
		t.Fatalf("Infer(%q) = %+v, which URL refuses: %v", host, s, err)
	}
	endpoint, ok := strings.CutPrefix(u, "https://")
	if !ok || strings.ContainsAny(endpoint, "/:?#@") {
		t.Fatalf("URL(%+v) = %q, not https://host", s, u)
	}
	if back, err := Infer(endpoint); err != nil || back != s {
		t.Fatalf("Infer(%q) = %+v, but Infer(%q) of its URL = %+v, %v", host, s, endpoint, back, err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
