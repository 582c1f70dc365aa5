package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// TestRun uses the helper by hand, as a user would: the file backend, its password from
// $AWSKEEP_KEYRING_PASSWORD.
func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	env := map[string]string{
		protocol.EnvBackend:  protocol.BackendFile,
		protocol.EnvFileDir:  dir,
		protocol.EnvPassword: "kr-pass",
	}
	run := func(stdin string, e map[string]string, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code = run(t.Context(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return e[k] })
		return code, out.String(), errOut.String()
	}
	with := func(k, v string) map[string]string {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		e[k] = v
		return e
	}

	if code, out, _ := run("", env, "--help"); code != 0 || !strings.HasPrefix(out, "usage: awskeep-keyring get NAME") {
		t.Fatalf("--help: %d %q", code, out)
	}
	if code, out, _ := run("pw-1\r\n", env, "set", "okta"); code != 0 || out != "" {
		t.Fatalf("set: %d %q", code, out)
	}
	if code, out, errOut := run("", env, "get", "okta"); code != 0 || out != "pw-1\n" || errOut != "" {
		t.Fatalf("get: %d %q %q", code, out, errOut)
	}
	if code, _, _ := run("pw 2 without a line end", env, "set", "okta"); code != 0 {
		t.Fatalf("set without a line end: %d", code)
	}
	if _, out, _ := run("", env, "get", "okta"); out != "pw 2 without a line end\n" {
		t.Fatalf("get: %q", out)
	}

	noPass := with(protocol.EnvBackend, protocol.BackendPass)
	noPass[protocol.EnvPassCmd] = "/nonexistent/pass"
	tests := []struct {
		name     string
		stdin    string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no arguments", "", env, nil, protocol.ExitUsage, "awskeep-keyring: want get NAME or set NAME\n"},
		{"unknown command", "", env, []string{"list", "x"}, protocol.ExitUsage, "awskeep-keyring: want get NAME or set NAME\n"},
		{"bad name", "", env, []string{"get", "../x"}, protocol.ExitUsage, "awskeep-keyring: item name \"../x\": name starts with a dot\n"},
		{"not found", "", env, []string{"get", "gone"}, protocol.ExitNotFound, `awskeep-keyring: no item "gone" in the keyring files in ` + dir + "\n"},
		{"wrong password", "", with(protocol.EnvPassword, "not-it"), []string{"get", "okta"}, protocol.ExitUnauthorized,
			`awskeep-keyring: cannot decrypt item "okta" in ` + dir + ": wrong keyring password ($AWSKEEP_KEYRING_PASSWORD) or a damaged file\n"},
		{"unavailable", "", noPass, []string{"get", "okta"}, protocol.ExitUnavailable, "no keyring backend available (pass: no /nonexistent/pass program"},
		{"not configured", "", with(protocol.EnvBackend, "kwallet"), []string{"get", "okta"}, protocol.ExitNotConfigured, "unknown keyring backend \"kwallet\""},
		{"empty stdin", "", env, []string{"set", "okta"}, protocol.ExitEmpty, "awskeep-keyring: nothing to store: the secret is empty\n"},
		{"empty line", "\nmore", env, []string{"set", "okta"}, protocol.ExitEmpty, "nothing to store"},
		{"too long", strings.Repeat("x", protocol.MaxSecret+1) + "\n", env, []string{"set", "okta"}, protocol.ExitFailure, "longer than 64 KiB"},
		{"other protocol", "", with(protocol.EnvProtocol, "2"), []string{"get", "okta"}, protocol.ExitUsage, `awskeep speaks keyring protocol "2"`},
		{"bad descriptors", "", with(protocol.EnvAskFDs, "1,2"), []string{"get", "okta"}, protocol.ExitUsage, "not two descriptors"},
		{"closed descriptors", "", with(protocol.EnvAskFDs, "1000,1001"), []string{"get", "okta"}, protocol.ExitUsage, "names descriptor 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(tt.stdin, tt.env, tt.args...)
			if code != tt.wantCode || out != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and stderr containing %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
			if lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); !strings.HasPrefix(lines[len(lines)-1], protocol.MessagePrefix) {
				t.Fatalf("stderr's last line %q is not the error line", lines[len(lines)-1])
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "okta")); err != nil {
		t.Fatal(err)
	}
}
