package main

import (
	"strings"
	"testing"
)

// TestProxyUsageErrors: a bad command line exits 2 with one line on stderr before any key
// is opened, and an upstream's password is not repeated.
func TestProxyUsageErrors(t *testing.T) {
	key := []string{"--key", "pkcs11:token=aws;object=prod", "--access-key-id", "AKIAIOSFODNN7EXAMPLE"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"--upstream", "http://127.0.0.1:5000"}, "--profile NAME"},
		{"an argument", append(key, "http://127.0.0.1:5000"), "proxy"},
		{"remote listen", append(key, "--listen", "0.0.0.0:0"), "--allow-remote"},
		{"bad listen", append(key, "--listen", "nowhere"), "--listen"},
		{"upstream not http", append(key, "--upstream", "ftp://127.0.0.1:21"), "want http(s)://host[:port]"},
		{"upstream with a path", append(key, "--upstream", "http://127.0.0.1:5000/moto"), "without user, path or query"},
		{"upstream with a query", append(key, "--upstream", "http://127.0.0.1:5000?x=1"), "without user, path or query"},
		{"upstream with a password", append(key, "--upstream", "http://user:hunter2-upstream@127.0.0.1:5000"), "without user, path or query"},
		{"upstream not a URL", append(key, "--upstream", "http://user:hunter2-upstream@[::1"), "not a URL"},
		{"bad format", append(key, "--format", "ini"), "--format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runAwskeep(t, "", nil, append([]string{"proxy"}, tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "awskeep: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, one line", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "hunter2") {
				t.Errorf("stderr repeats the upstream's password: %s", r.stderr)
			}
		})
	}
}
