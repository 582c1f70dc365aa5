package sinks_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sinks"
)

// pathEnv is the least environment a child needs to find its commands.
var pathEnv = []string{"PATH=" + os.Getenv("PATH")}

var testCreds = creds.Credentials{
	AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	SessionToken: "IQoJb3JpZ2luX2VjE+/==", Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
}

func TestExecStatus(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want int
	}{
		{name: "success", argv: []string{"sh", "-c", "exit 0"}, want: 0},
		{name: "exit status", argv: []string{"sh", "-c", "exit 7"}, want: 7},
		{name: "exit 255", argv: []string{"sh", "-c", "exit 255"}, want: 255},
		{name: "killed by SIGTERM", argv: []string{"sh", "-c", "kill -TERM $$"}, want: 128 + int(syscall.SIGTERM)},
		{name: "killed by SIGKILL", argv: []string{"sh", "-c", "kill -KILL $$"}, want: 137},
		{name: "absolute path", argv: []string{"/bin/sh", "-c", "exit 3"}, want: 3},
		{name: "argv[0] kept", argv: []string{"sh", "-c", `[ "$0" = name ] && exit 5`, "name"}, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sinks.Exec(sinks.ExecInput{Argv: tt.argv, Environ: pathEnv, Credentials: testCreds})
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if got != tt.want {
				t.Errorf("Exec = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	touch := []string{"sh", "-c", "echo > " + marker}
	tests := []struct {
		name    string
		in      sinks.ExecInput
		is      error
		want    []string
		wantNot string
	}{
		{name: "missing command", in: sinks.ExecInput{Argv: []string{"awskeep-no-such-command-xyz", "arg"}, Environ: pathEnv},
			is: exec.ErrNotFound, want: []string{"awskeep-no-such-command-xyz"}},
		{name: "missing path", in: sinks.ExecInput{Argv: []string{"/nonexistent/awskeep-cmd"}, Environ: pathEnv},
			is: os.ErrNotExist, want: []string{"/nonexistent/awskeep-cmd"}},
		{name: "not executable", in: sinks.ExecInput{Argv: []string{marker + ".txt"}, Environ: pathEnv},
			want: []string{marker + ".txt"}},
		{name: "no command", in: sinks.ExecInput{Environ: pathEnv}, want: []string{"no command"}},
		{name: "nested", in: sinks.ExecInput{Argv: touch, Environ: append(slices.Clone(pathEnv), "AWSKEEP_PROFILE=outer")},
			is: sinks.ErrNested, want: []string{"outer", "AWSKEEP_PROFILE", "--allow-nested"}},
	}
	if err := os.WriteFile(marker+".txt", []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Credentials = testCreds
			code, err := sinks.Exec(tt.in)
			if err == nil {
				t.Fatalf("Exec = %d, want an error", code)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testCreds.SecretAccessKey) {
				t.Errorf("error %q prints the secret", err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

func TestCheckNested(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		allow   bool
		nested  bool
	}{
		{name: "not nested", environ: []string{"PATH=/bin", "AWS_PROFILE=x"}},
		{name: "nested", environ: []string{"PATH=/bin", "AWSKEEP_PROFILE=outer"}, nested: true},
		{name: "nested without a profile name", environ: []string{"AWSKEEP_PROFILE="}, nested: true},
		{name: "nested allowed", environ: []string{"AWSKEEP_PROFILE=outer"}, allow: true},
		{name: "similar names", environ: []string{"AWSKEEP_PROFILE_X=1", "XAWSKEEP_PROFILE=1", "awskeep_profile=1"}},
		{name: "empty", environ: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sinks.CheckNested(tt.environ, tt.allow)
			if tt.nested != errors.Is(err, sinks.ErrNested) || !tt.nested && err != nil {
				t.Errorf("CheckNested = %v, want nested %v", err, tt.nested)
			}
		})
	}
}

// childEnv runs env through Exec and returns the child's environment.
func childEnv(t *testing.T, in sinks.ExecInput) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	in.Argv = []string{"env", "-0"}
	in.Stdout, in.Stderr = &stdout, &stderr
	code, err := sinks.Exec(in)
	if err != nil || code != 0 {
		t.Fatalf("Exec(env) = %d, %v; stderr: %s", code, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
}

func TestExecEnvironment(t *testing.T) {
	// A variable only in this process's environment must not reach the child: Exec gives
	// the child what ExecInput.Environ holds, cleaned.
	t.Setenv("AWSKEEP_TEST_PARENT_ONLY", "leak")
	environ := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/home/u",
		"AWSKEEP_PIN=123456", "AWS_PROFILE=other", "AWS_DEFAULT_PROFILE=other",
		"AWS_ACCESS_KEY_ID=AKIAOLDOLDOLDOLD1234", "AWS_SECRET_ACCESS_KEY=old-secret", "AWS_SESSION_TOKEN=old-token",
		"AWS_SECURITY_TOKEN=old-token", "AWS_CREDENTIAL_EXPIRATION=2000-01-01T00:00:00Z",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN=old",
		"AWS_REGION=us-west-2", "AWS_DEFAULT_REGION=us-west-2",
		"AWS_CONFIG_FILE=/home/u/.aws/config", "AWS_ENDPOINT_URL_STS=https://sts.example",
		"MULTI=line1\nline2",
	}
	tests := []struct {
		name    string
		in      sinks.ExecInput
		want    []string // exactly these entries for the names they set
		wantNot []string // names absent
	}{
		{
			name: "credentials, region and profile",
			in:   sinks.ExecInput{Environ: environ, Credentials: testCreds, Region: "eu-west-1", Profile: "prod-hsm"},
			want: []string{
				"AWS_ACCESS_KEY_ID=" + testCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + testCreds.SecretAccessKey,
				"AWS_SESSION_TOKEN=" + testCreds.SessionToken, "AWS_CREDENTIAL_EXPIRATION=2026-11-30T12:00:00Z",
				"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1", "AWSKEEP_PROFILE=prod-hsm",
				"PATH=" + os.Getenv("PATH"), "HOME=/home/u", "AWS_CONFIG_FILE=/home/u/.aws/config",
				"AWS_ENDPOINT_URL_STS=https://sts.example", "MULTI=line1\nline2",
			},
			wantNot: []string{"AWSKEEP_PIN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN",
				"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWSKEEP_TEST_PARENT_ONLY"},
		},
		{
			name: "no region keeps the caller's",
			in:   sinks.ExecInput{Environ: environ, Credentials: creds.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s"}},
			want: []string{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=s",
				"AWS_REGION=us-west-2", "AWS_DEFAULT_REGION=us-west-2", "AWSKEEP_PROFILE="},
			wantNot: []string{"AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWSKEEP_PIN", "AWS_PROFILE"},
		},
		{
			name: "nested allowed replaces the outer profile",
			in: sinks.ExecInput{Environ: append(slices.Clone(environ), "AWSKEEP_PROFILE=outer"), AllowNested: true,
				Credentials: testCreds, Region: "eu-west-1", Profile: "inner"},
			want:    []string{"AWSKEEP_PROFILE=inner", "AWS_SECRET_ACCESS_KEY=" + testCreds.SecretAccessKey},
			wantNot: []string{"AWSKEEP_PIN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := childEnv(t, tt.in)
			byName := map[string][]string{}
			for _, kv := range env {
				name, value, _ := strings.Cut(kv, "=")
				byName[name] = append(byName[name], value)
			}
			for _, w := range tt.want {
				name, value, _ := strings.Cut(w, "=")
				if got := byName[name]; len(got) != 1 || got[0] != value {
					t.Errorf("child has %s = %q, want exactly %q", name, got, value)
				}
			}
			for _, name := range tt.wantNot {
				if got, ok := byName[name]; ok {
					t.Errorf("child has %s = %q", name, got)
				}
			}
			for _, kv := range env {
				if strings.Contains(kv, "old-secret") || strings.Contains(kv, "old-token") || strings.Contains(kv, "123456") {
					t.Errorf("child inherited %q", kv)
				}
			}
		})
	}
}

func TestExecStdio(t *testing.T) {
	tests := []struct {
		name       string
		stdin      string
		nilStdin   bool
		script     string
		wantOut    string
		wantErrOut string
	}{
		{name: "stdin to stdout", stdin: "hello\n", script: "cat", wantOut: "hello\n"},
		{name: "stderr", script: "echo oops >&2", wantErrOut: "oops\n"},
		{name: "nil stdin is the null device", nilStdin: true, script: `read -r x || printf eof`, wantOut: "eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			in := sinks.ExecInput{Argv: []string{"sh", "-c", tt.script}, Environ: pathEnv, Credentials: testCreds,
				Stdout: &stdout, Stderr: &stderr}
			if !tt.nilStdin {
				in.Stdin = strings.NewReader(tt.stdin)
			}
			code, err := sinks.Exec(in)
			if err != nil || code != 0 {
				t.Fatalf("Exec = %d, %v", code, err)
			}
			if stdout.String() != tt.wantOut || stderr.String() != tt.wantErrOut {
				t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), tt.wantOut, tt.wantErrOut)
			}
		})
	}
}

// TestExecForwardsSignals sends a signal to this test process while Exec runs a child
// that traps it, and expects the child's trap to decide the status. Exec's signal.Notify
// is active from before the child starts until it ends, and the child only ends through
// its trap (or its own time limit), so the signal cannot hit the test process's default
// action. SIGINT and SIGQUIT are left out: Exec keeps them when it shares the terminal's
// foreground process group, which depends on how the tests are run.
func TestExecForwardsSignals(t *testing.T) {
	tests := []struct {
		name string
		sig  syscall.Signal
		trap string
		want int
	}{
		{name: "SIGTERM", sig: syscall.SIGTERM, trap: "TERM", want: 42},
		{name: "SIGHUP", sig: syscall.SIGHUP, trap: "HUP", want: 43},
		{name: "SIGUSR1", sig: syscall.SIGUSR1, trap: "USR1", want: 44},
		{name: "SIGUSR2", sig: syscall.SIGUSR2, trap: "USR2", want: 45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready := filepath.Join(t.TempDir(), "ready")
			// The loop ends by itself after about 20 seconds (status 99), so a signal that
			// is not forwarded fails the test instead of hanging it.
			script := fmt.Sprintf(`trap "exit %d" %s; echo ready > %s; i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 99`,
				tt.want, tt.trap, ready)
			type result struct {
				code int
				err  error
			}
			done := make(chan result, 1)
			go func() {
				code, err := sinks.Exec(sinks.ExecInput{Argv: []string{"sh", "-c", script}, Environ: pathEnv, Credentials: testCreds})
				done <- result{code, err}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				select {
				case r := <-done:
					t.Fatalf("Exec ended before the child was ready: %d, %v", r.code, r.err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("the child never became ready")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := syscall.Kill(os.Getpid(), tt.sig); err != nil {
				t.Fatalf("kill: %v", err)
			}
			r := <-done
			if r.err != nil {
				t.Fatalf("Exec: %v", r.err)
			}
			if r.code != tt.want {
				t.Errorf("Exec = %d, want %d (the child's trap)", r.code, tt.want)
			}
		})
	}
}
