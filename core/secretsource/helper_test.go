package secretsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
)

// helperBin is the awskeep-keyring that TestMain builds; its directory is put first on
// $PATH, so the keyring tests find it as awskeep would, through the lookup.
var helperBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "awskeep-keyring")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	helperBin = filepath.Join(dir, protocol.Program)
	build := exec.Command("go", "build", "-o", helperBin, "github.com/awskeep/awskeep/core/cmd/awskeep-keyring")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the keyring helper (cd cmd && go build ./awskeep-keyring, in the go.work workspace): %v\n%s", err, out)
		return 1
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return m.Run()
}

// TestNoKeyringLibrary: awskeep must not link github.com/99designs/keyring, whose init
// connects to the D-Bus session bus; secretsource runs awskeep-keyring instead. The engine
// (which every awskeep process links) is checked too.
func TestNoKeyringLibrary(t *testing.T) {
	for _, pkg := range []string{"github.com/awskeep/awskeep/core/secretsource", "github.com/awskeep/awskeep/core/engine"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
			}
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/awskeep/awskeep/core/secretsource") {
			t.Fatalf("%s does not depend on secretsource; the check would prove nothing", pkg)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/99designs/") || strings.HasPrefix(d, "github.com/godbus/") ||
				strings.HasPrefix(d, "github.com/gsterjov/") || d == "github.com/awskeep/awskeep/core/secretsource/keyringstore" {
				t.Errorf("%s imports %s (go list -deps %s)", pkg, d, pkg)
			}
		}
	}
}

func TestLookupHelper(t *testing.T) {
	realDir := filepath.Join(t.TempDir(), "opt", "awskeep")
	if err := os.MkdirAll(realDir, 0o700); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(realDir, "awskeep")
	onPath := func(string) (string, error) { return "/usr/bin/awskeep-keyring", nil }
	notOnPath := func(string) (string, error) { return "", exec.ErrNotFound }
	relative := func(string) (string, error) { return "awskeep-keyring", exec.ErrDot }

	if got, err := lookupHelper(exe, onPath); err != nil || got != "/usr/bin/awskeep-keyring" {
		t.Fatalf("nothing next to awskeep: %q, %v; want $PATH's", got, err)
	}
	_, err := lookupHelper(exe, notOnPath)
	want := "awskeep-keyring not found in " + realDir + " (next to awskeep) or on $PATH: it ships with awskeep (make build puts it in bin/); install it next to awskeep"
	if !errors.Is(err, ErrUnavailable) || err.Error() != want {
		t.Fatalf("lookupHelper() = %v\nwant %s", err, want)
	}
	if _, err := lookupHelper(exe, relative); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a relative $PATH entry was used: %v", err)
	}
	if _, err := lookupHelper("", notOnPath); err == nil || !strings.Contains(err.Error(), "not found in $PATH") {
		t.Fatalf("lookupHelper without an executable = %v", err)
	}
	// Next to the executable wins over $PATH.
	next := filepath.Join(realDir, protocol.Program)
	if err := os.WriteFile(next, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := lookupHelper(exe, onPath); err != nil || got != next {
		t.Fatalf("lookupHelper() = %q, %v; want %s", got, err, next)
	}
}

// TestFindHelperRefuses: a helper someone else could have written is not run, and one
// reached through a symlink runs as its target.
func TestFindHelperRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		path     string
		wantKind error
		wantErr  string
	}{
		{"group writable", write("gw", 0o775), ErrInsecure, "is writable by group or others (mode 0775)"},
		{"not executable", write("nx", 0o600), ErrUnavailable, "is not executable; run chmod u+x"},
		{"missing", filepath.Join(dir, "nothing"), ErrUnavailable, "does not exist: it ships with awskeep (make build puts it in bin/)"},
		{"directory", dir, ErrInsecure, "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fileKeyringOpts(t.TempDir(), "p", nil)
			opts.Keyring.Helper = tt.path
			_, err := mustParse(t, "keyring:okta", opts).Secret(t.Context())
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "keyring:okta: ") {
				t.Fatalf("Secret() = %v\nwant %v containing %q", err, tt.wantKind, tt.wantErr)
			}
		})
	}
	if got, err := findHelper(write("ok", 0o755)); err != nil || got != filepath.Join(dir, "ok") {
		t.Fatalf("findHelper() = %q, %v", got, err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(dir, "ok"), link); err != nil {
		t.Fatal(err)
	}
	if got, err := findHelper(link); err != nil || got != filepath.Join(dir, "ok") {
		t.Fatalf("findHelper(symlink) = %q, %v; want the target", got, err)
	}
}

// fakeHelper writes a shell script that stands in for awskeep-keyring and returns options
// that run it.
func fakeHelper(t *testing.T, script string) Options {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-helper")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	opts := fileKeyringOpts(t.TempDir(), "", noTTY())
	opts.Keyring.Helper = p
	return opts
}

// TestHelperCall: arguments, stdin, stdout and environment of the helper. The secret goes
// in on stdin, never in arguments or the environment, and the helper sees none of
// awskeep's other secrets.
func TestHelperCall(t *testing.T) {
	t.Setenv("AWSKEEP_PIN", "pin-never-passed")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-never-passed")
	t.Setenv("AWS_SESSION_TOKEN", "aws-token-never-passed")
	t.Setenv(EnvKeyringPassword, "krpass-never-passed")
	t.Setenv("GNUPGHOME", "/gnupg")
	t.Setenv("LC_ALL", "C.UTF-8")
	t.Setenv("XDG_DATA_HOME", "/process/data") // Options.Getenv's wins
	out := filepath.Join(t.TempDir(), "out")
	opts := fakeHelper(t, `{ printf '%s\n' "$@"; echo --; env; echo --; cat; } > `+out+`; printf 'from-helper\n'`)
	opts.Getenv = envMap(map[string]string{"HOME": "/home/alice", EnvKeyringPassword: "krpass-never-passed"})
	opts.Keyring.ServiceName = "svc"
	opts.Keyring.PassCmd = "/usr/bin/pass"

	if err := Store(t.Context(), "okta", "store-secret-1", opts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "--\n")
	if len(parts) != 3 {
		t.Fatalf("helper saw %q", b)
	}
	if parts[0] != "set\nokta\n" {
		t.Errorf("arguments %q, want set okta", parts[0])
	}
	if parts[2] != "store-secret-1\n" {
		t.Errorf("stdin %q, want the secret and a newline", parts[2])
	}
	env := strings.Split(strings.TrimSpace(parts[1]), "\n")
	for _, want := range []string{
		"AWSKEEP_KEYRING_PROTOCOL=1", "AWSKEEP_KEYRING_BACKEND=file", "AWSKEEP_KEYRING_FILE_DIR=" + opts.Keyring.FileDir,
		"AWSKEEP_KEYRING_SERVICE=svc", "AWSKEEP_KEYRING_PASS_CMD=/usr/bin/pass", "AWSKEEP_KEYRING_ASK_FDS=3,4",
		"HOME=/home/alice", "GNUPGHOME=/gnupg", "LC_ALL=C.UTF-8", "PATH=" + os.Getenv("PATH"), "DISABLE_KWALLET=1",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("helper environment lacks %s", want)
		}
	}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(kv, "never-passed") || strings.Contains(kv, "store-secret-1") || strings.HasPrefix(k, "AWS_") || k == "XDG_DATA_HOME" {
			t.Errorf("helper environment holds %s", kv)
		}
		if !inheritedVar(k) && !strings.HasPrefix(k, "AWSKEEP_KEYRING_") &&
			!slices.Contains([]string{"HOME", "DISABLE_KWALLET", "DBUS_SESSION_BUS_ADDRESS", "PWD", "SHLVL", "_", "OLDPWD"}, k) {
			t.Errorf("helper environment holds %s, which is not allow-listed", k)
		}
	}

	got, err := mustParse(t, "keyring:okta", opts).Secret(t.Context())
	if err != nil || got != "from-helper" {
		t.Fatalf("Secret() = %q, %v", got, err)
	}
	if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "get\nokta\n--\n") || !strings.HasSuffix(string(b), "--\n") {
		t.Fatalf("get: helper saw %q (want no stdin)", b)
	}

	t.Run("no D-Bus session bus", func(t *testing.T) {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
			t.Skip("this machine has a per-user session bus")
		}
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		if err := Store(t.Context(), "okta", "x", opts); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(out); !strings.Contains(string(b), "\nDBUS_SESSION_BUS_ADDRESS=disabled:\n") {
			t.Fatalf("no bus address that keeps the keyring library from running dbus-launch:\n%s", b)
		}
	})
}

// TestHelperExitStatus: each exit status maps back to its sentinel, with the helper's
// line as the message.
func TestHelperExitStatus(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name, script string
		wantKind     error
		wantErr      string
	}{
		{"not found", `echo "awskeep-keyring: no item \"okta\" in somewhere" >&2; exit 3`, ErrNotFound,
			`keyring:okta: no item "okta" in somewhere: store it with awskeep saml store-password --profile work`},
		{"unauthorized", `echo "awskeep-keyring: cannot decrypt" >&2; exit 4`, ErrUnauthorized, "keyring:okta: cannot decrypt"},
		{"unavailable", `echo "awskeep-keyring: no keyring backend available (x)" >&2; exit 5`, ErrUnavailable, "keyring:okta: no keyring backend available (x)"},
		{"not configured", `echo "awskeep-keyring: no directory" >&2; exit 6`, ErrNotConfigured, "keyring:okta: no directory"},
		{"empty", `echo "awskeep-keyring: item is empty" >&2; exit 7`, ErrEmpty, "keyring:okta: item is empty"},
		{"foreign item", `echo "awskeep-keyring: item \"okta\" is not in the form awskeep stores" >&2; exit 8`, nil,
			`keyring:okta: item "okta" is not in the form awskeep stores: store it again with awskeep saml store-password --profile work`},
		{"usage", `echo "awskeep-keyring: want get NAME or set NAME" >&2; exit 2`, nil, "(is awskeep-keyring the one that came with awskeep?)"},
		{"other", `echo "gpg: decryption failed" >&2; echo "awskeep-keyring: pass show failed" >&2; exit 1`, nil, "keyring:okta: pass show failed"},
		{"no message", `echo "gpg: something" >&2; exit 9`, nil, "keyring:okta: awskeep-keyring get okta failed (exit status 9): gpg: something"},
		{"killed", `kill -9 $$`, nil, "awskeep-keyring get okta failed (signal: killed)"},
		{"long line", `echo "awskeep-keyring: ` + long + `" >&2; exit 1`, nil, "keyring:okta: xxxx"},
		{"control characters", `printf 'awskeep-keyring: a\033[31mb\r\n' >&2; exit 1`, nil, "keyring:okta: a [31mb"},
		{"no line end", `printf pw`, nil, "awskeep-keyring answered without a line end"},
		{"too long", `head -c 70000 /dev/zero | tr '\0' x; echo`, nil, "awskeep-keyring answered more than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustParse(t, "keyring:okta", fakeHelper(t, tt.script)).Secret(t.Context())
			if err == nil || (tt.wantKind != nil && !errors.Is(err, tt.wantKind)) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Secret() = %v\nwant %v containing %q", err, tt.wantKind, tt.wantErr)
			}
			for _, k := range []error{ErrNotFound, ErrUnauthorized, ErrUnavailable, ErrNotConfigured, ErrEmpty} {
				if k != tt.wantKind && errors.Is(err, k) {
					t.Errorf("Secret() = %v, also %v", err, k)
				}
			}
			if len(err.Error()) > maxHelperMessage+200 || strings.ContainsAny(err.Error(), "\n\r\033") {
				t.Errorf("error is not one short line: %q", err)
			}
		})
	}
}

func TestHelperContext(t *testing.T) {
	opts := fakeHelper(t, `exec sleep 30`)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := mustParse(t, "keyring:okta", opts).Secret(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Secret() = %v, want the context's error", err)
	}
	if d := time.Since(start); d > helperWaitDelay {
		t.Fatalf("Secret() took %s after its deadline", d)
	}
}

// TestStderrLines: the helper's other stderr lines (pass, gpg) go on to awskeep's stderr;
// its own line goes into the error only.
func TestStderrLines(t *testing.T) {
	var fwd bytes.Buffer
	s := &stderrLines{forward: &fwd}
	for _, chunk := range []string{"gpg: one\ngpg: t", "wo\nawskeep-keyring: the ", "error\n", "tail"} {
		if _, err := s.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	s.flush()
	if got, want := fwd.String(), "gpg: one\ngpg: two\ntail\n"; got != want {
		t.Errorf("forwarded %q, want %q", got, want)
	}
	if s.message() != "the error" || s.lastOther() != "tail" {
		t.Errorf("message %q, other %q", s.message(), s.lastOther())
	}
}

// TestStoreOneLine: the helper reads one line, so a secret that is not one is refused
// before it starts.
func TestStoreOneLine(t *testing.T) {
	opts := fakeHelper(t, `echo "awskeep-keyring: should not run" >&2; exit 1`)
	for _, secret := range []string{"a\nb", "a\r", strings.Repeat("x", protocol.MaxSecret+1)} {
		err := Store(t.Context(), "okta", secret, opts)
		if err == nil || !strings.HasPrefix(err.Error(), "keyring:okta: nothing stored: the secret ") {
			t.Errorf("Store(%.10q) = %v", secret, err)
		}
	}
	if err := Store(t.Context(), "okta", strings.Repeat("x", protocol.MaxSecret), opts); err == nil || !strings.Contains(err.Error(), "should not run") {
		t.Errorf("Store() of the longest secret = %v, want the helper's error", err)
	}
}
