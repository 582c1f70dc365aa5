package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// botoPassword is the authentication key's password in these tests; it must appear in no
// output.
const botoPassword = "Boto-Pa55word/with spaces&?=%"

// cmdResult is what one in-process run printed and returned.
type cmdResult struct {
	stdout, stderr string
	code           int
}

// runAwskeep runs one command line in process with stdin from a file, the given
// environment and nothing else of the test process's.
func runAwskeep(t *testing.T, stdin string, vars map[string]string, args ...string) cmdResult {
	t.Helper()
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: f, stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
		environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		now: time.Now,
	}
	e.logger = newLogger(&stderr, "")
	code := run(context.Background(), args, e)
	return cmdResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mustFailOneLine checks the error contract: exit 1, nothing on stdout, one "awskeep: "
// line on stderr saying want, and no password.
func mustFailOneLine(t *testing.T, r cmdResult, want string) {
	t.Helper()
	mustFailWith(t, r, exitFailure, want)
}

// mustFailWith is mustFailOneLine with the exit status given: exitUsage for a bad command line.
func mustFailWith(t *testing.T, r cmdResult, code int, want string) {
	t.Helper()
	if r.code != code || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q; want %d and nothing\nstderr: %s", r.code, r.stdout, code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "awskeep: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("stderr is not one awskeep: line: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr does not say %q: %s", want, r.stderr)
	}
	if strings.Contains(r.stderr, botoPassword) || strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("stderr holds the password: %s", r.stderr)
	}
}

func TestParseBotoCredential(t *testing.T) {
	tests := []struct {
		name, in        string
		host, port      string
		auth, hmac      uint16
		password, wantC string
	}{
		{"README example", "hsm|127.0.0.1:1111|1|password|10000", "127.0.0.1", "1111", 1, 10000, "password", "http://127.0.0.1:1111"},
		{"hex ids", "hsm|127.0.0.1:12345|0x0001|pw|0x0010", "127.0.0.1", "12345", 1, 0x10, "pw", "http://127.0.0.1:12345"},
		{"upper-case hex", "hsm|127.0.0.1:12345|0X2|pw|0XFFFF", "127.0.0.1", "12345", 2, 0xffff, "pw", "http://127.0.0.1:12345"},
		// Python's int("0010") is 10; Go's base-0 parsing would read octal 8.
		{"leading zeros are decimal", "hsm|127.0.0.1:12345|0001|pw|0010", "127.0.0.1", "12345", 1, 10, "pw", "http://127.0.0.1:12345"},
		{"many leading zeros", "hsm|127.0.0.1:12345|000000001|pw|0x0000010", "127.0.0.1", "12345", 1, 16, "pw", "http://127.0.0.1:12345"},
		{"largest ids", "hsm|10.0.0.7:80|65535|pw|65535", "10.0.0.7", "80", 0xffff, 0xffff, "pw", "http://10.0.0.7:80"},
		{"host name", "hsm|HSM.example.com:12345|1|pw|2", "hsm.example.com", "12345", 1, 2, "pw", "http://hsm.example.com:12345"},
		{"localhost", "hsm|localhost:12345|1|pw|2", "localhost", "12345", 1, 2, "pw", "http://localhost:12345"},
		{"IPv6", "hsm|[::1]:12345|1|pw|2", "::1", "12345", 1, 2, "pw", "http://[::1]:12345"},
		{"port with leading zero", "hsm|127.0.0.1:012345|1|pw|2", "127.0.0.1", "12345", 1, 2, "pw", "http://127.0.0.1:12345"},
		{"password with punctuation and spaces", "hsm|127.0.0.1:12345|1|" + botoPassword + "|2", "127.0.0.1", "12345", 1, 2, botoPassword, "http://127.0.0.1:12345"},
		{"password that looks like an id", "hsm|127.0.0.1:12345|1|16|2", "127.0.0.1", "12345", 1, 2, "16", "http://127.0.0.1:12345"},
		{"non-ASCII password", "hsm|127.0.0.1:12345|1|pässwörd|2", "127.0.0.1", "12345", 1, 2, "pässwörd", "http://127.0.0.1:12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseBotoCredential(tt.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			want := botoCredential{host: tt.host, port: tt.port, authKeyID: tt.auth, password: tt.password, hmacKeyID: tt.hmac}
			if c != want {
				t.Fatalf("parse = %+v, want %+v", c, want)
			}
			if got := c.connector(); got != tt.wantC {
				t.Fatalf("connector = %q, want %q", got, tt.wantC)
			}
			// The plugin must take the connector as it is, and talk to /connector/api, not
			// the patch's /api.
			base, err := yubihsm.ParseConnectorURL(c.connector())
			if err != nil || base != tt.wantC {
				t.Fatalf("yubihsm.ParseConnectorURL(%q) = %q, %v", c.connector(), base, err)
			}
		})
	}
}

func TestParseBotoCredentialRejects(t *testing.T) {
	const pw = "hunter2"
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", errBotoPrefix},
		{"a plain AWS secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", errBotoPrefix},
		{"the credentials file line", "aws_secret_access_key = hsm|127.0.0.1:1|1|" + pw + "|2", errBotoPrefix},
		{"HSM in capitals", "HSM|127.0.0.1:12345|1|" + pw + "|2", errBotoPrefix},
		{"hsmx prefix", "hsmx|127.0.0.1:12345|1|" + pw + "|2", errBotoPrefix},
		{"four fields", "hsm|127.0.0.1:12345|1|" + pw, errBotoFields},
		{"password with a bar", "hsm|127.0.0.1:12345|1|hun|ter2|2", errBotoFields},
		{"trailing bar", "hsm|127.0.0.1:12345|1|" + pw + "|2|", errBotoFields},
		{"no port (the patch's own comment)", "hsm|192.168.1.10|1|" + pw + "|2", errBotoAddress},
		{"empty address", "hsm||1|" + pw + "|2", errBotoAddress},
		{"empty host", "hsm|:12345|1|" + pw + "|2", errBotoAddress},
		{"port 0", "hsm|127.0.0.1:0|1|" + pw + "|2", errBotoAddress},
		{"port too big", "hsm|127.0.0.1:65536|1|" + pw + "|2", errBotoAddress},
		{"named port", "hsm|127.0.0.1:http|1|" + pw + "|2", errBotoAddress},
		{"signed port", "hsm|127.0.0.1:+80|1|" + pw + "|2", errBotoAddress},
		{"a URL", "hsm|http://127.0.0.1:12345|1|" + pw + "|2", errBotoAddress},
		{"a path", "hsm|127.0.0.1:12345/api|1|" + pw + "|2", errBotoAddress},
		{"user info", "hsm|me@127.0.0.1:12345|1|" + pw + "|2", errBotoAddress},
		{"IPv6 without brackets", "hsm|::1:12345|1|" + pw + "|2", errBotoAddress},
		{"IPv6 zone", "hsm|[fe80::1%eth0]:12345|1|" + pw + "|2", errBotoAddress},
		{"IPv4 with leading zeros", "hsm|127.000.000.001:12345|1|" + pw + "|2", errBotoAddress},
		{"short IPv4", "hsm|192.168.1:12345|1|" + pw + "|2", errBotoAddress},
		{"host with underscore", "hsm|my_hsm:12345|1|" + pw + "|2", errBotoAddress},
		{"space in address", "hsm|127.0.0.1: 12345|1|" + pw + "|2", errBotoAddress},
		{"auth key 0", "hsm|127.0.0.1:12345|0|" + pw + "|2", errBotoAuthKeyID},
		{"auth key 0x0", "hsm|127.0.0.1:12345|0x0|" + pw + "|2", errBotoAuthKeyID},
		{"auth key too big", "hsm|127.0.0.1:12345|65536|" + pw + "|2", errBotoAuthKeyID},
		{"auth key too big after zeros", "hsm|127.0.0.1:12345|000065536|" + pw + "|2", errBotoAuthKeyID},
		{"auth key negative", "hsm|127.0.0.1:12345|-1|" + pw + "|2", errBotoAuthKeyID},
		{"auth key signed", "hsm|127.0.0.1:12345|+1|" + pw + "|2", errBotoAuthKeyID},
		{"auth key with spaces", "hsm|127.0.0.1:12345| 1|" + pw + "|2", errBotoAuthKeyID},
		{"auth key with underscore", "hsm|127.0.0.1:12345|1_0|" + pw + "|2", errBotoAuthKeyID},
		{"auth key octal prefix", "hsm|127.0.0.1:12345|0o17|" + pw + "|2", errBotoAuthKeyID},
		{"auth key bare 0x", "hsm|127.0.0.1:12345|0x|" + pw + "|2", errBotoAuthKeyID},
		{"auth key hex underscore", "hsm|127.0.0.1:12345|0x_1|" + pw + "|2", errBotoAuthKeyID},
		{"auth key empty", "hsm|127.0.0.1:12345||" + pw + "|2", errBotoAuthKeyID},
		{"password empty", "hsm|127.0.0.1:12345|1||2", errBotoPassword},
		{"password with a tab", "hsm|127.0.0.1:12345|1|hun\tter2|2", errBotoControl},
		{"password with NUL", "hsm|127.0.0.1:12345|1|hun\x00ter2|2", errBotoControl},
		{"password with CR", "hsm|127.0.0.1:12345|1|hunter2\r|2", errBotoControl},
		{"hmac key 0", "hsm|127.0.0.1:12345|1|" + pw + "|0", errBotoHMACKeyID},
		{"hmac key too big", "hsm|127.0.0.1:12345|1|" + pw + "|0x10000", errBotoHMACKeyID},
		{"hmac key empty", "hsm|127.0.0.1:12345|1|" + pw + "|", errBotoHMACKeyID},
		{"hmac key with space", "hsm|127.0.0.1:12345|1|" + pw + "|2 ", errBotoHMACKeyID},
		{"password where the hmac key goes", "hsm|127.0.0.1:12345|1|2|" + pw, errBotoHMACKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBotoCredential(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("parse = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "hun") {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}

func TestKeysFromBotoPatch(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(home, "cfg")
	vars := map[string]string{"HOME": home, "XDG_CONFIG_HOME": config}
	r := runAwskeep(t, "hsm|127.0.0.1:12345|1|"+botoPassword+"|0010\n", vars, "keys", "from-boto-patch")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	path := filepath.Join(config, "awskeep", "yubihsm-127.0.0.1-12345-auth-1.pw")
	want := "yubihsm:object-id=0x000a?connector=http://127.0.0.1:12345&auth-key-id=1&pin-source=file:" + path + "\n"
	if r.stdout != want {
		t.Fatalf("stdout = %q\nwant     %q", r.stdout, want)
	}
	if strings.Contains(r.stdout, botoPassword) || strings.Contains(r.stdout, "/api") {
		t.Fatalf("stdout holds the password or the patch's /api path: %q", r.stdout)
	}
	checkMode(t, path, 0o600)
	checkMode(t, filepath.Dir(path), 0o700|os.ModeDir)
	if data, err := os.ReadFile(path); err != nil || string(data) != botoPassword+"\n" {
		t.Fatalf("pin file holds %q, %v", data, err)
	}
	u, err := keyuri.Parse(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatalf("the printed URI does not parse: %v", err)
	}
	if got, err := pin.Resolve(context.Background(), u, func(o *pin.Options) { o.Getenv = func(string) string { return "" }; o.NoPrompt = true }); err != nil || got != botoPassword {
		t.Fatalf("the URI's pin-source does not give the password back: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("the pin file directory holds %d entries, want only the pin file (temporary file left behind?)", len(entries))
	}

	t.Run("decimal, hex and padded ids give the same URI", func(t *testing.T) {
		for _, in := range []string{"hsm|127.0.0.1:12345|1|" + botoPassword + "|10", "  hsm|127.0.0.1:12345|0x0001|" + botoPassword + "|0x000a  \r\n\n"} {
			again := runAwskeep(t, in, vars, "keys", "from-boto-patch")
			if again.code != 0 || again.stdout != r.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", again.code, again.stdout, again.stderr, r.stdout)
			}
		}
	})
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Fatalf("%s has mode %v, want %v", path, got, want)
	}
}

func TestKeysFromBotoPatchPinFile(t *testing.T) {
	line := "hsm|127.0.0.1:12345|1|" + botoPassword + "|16\n"
	vars := map[string]string{"HOME": t.TempDir()}

	t.Run("default under HOME/.config", func(t *testing.T) {
		r := runAwskeep(t, line, vars, "keys", "from-boto-patch")
		path := filepath.Join(vars["HOME"], ".config", "awskeep", "yubihsm-127.0.0.1-12345-auth-1.pw")
		if r.code != 0 || !strings.HasSuffix(r.stdout, "pin-source=file:"+path+"\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		checkMode(t, path, 0o600)
	})

	t.Run("IPv6 connector", func(t *testing.T) {
		r := runAwskeep(t, "hsm|[::1]:12345|1|"+botoPassword+"|16\n", vars, "keys", "from-boto-patch")
		path := filepath.Join(vars["HOME"], ".config", "awskeep", "yubihsm-__1-12345-auth-1.pw")
		if r.code != 0 || r.stdout != "yubihsm:object-id=0x0010?connector=http://[::1]:12345&auth-key-id=1&pin-source=file:"+path+"\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("no home", func(t *testing.T) {
		mustFailOneLine(t, runAwskeep(t, line, nil, "keys", "from-boto-patch"), "pass --pin-file")
	})

	t.Run("relative path becomes absolute", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		r := runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", "sub/pw")
		if r.code != 0 || !strings.HasSuffix(r.stdout, "&pin-source=file:"+filepath.Join(dir, "sub", "pw")+"\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		checkMode(t, filepath.Join(dir, "sub"), 0o700|os.ModeDir)
	})

	t.Run("a path a URI must encode", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dir with space", "p%41?#;&=é.pw")
		r := runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		u, err := keyuri.Parse(strings.TrimSpace(r.stdout))
		if err != nil {
			t.Fatal(err)
		}
		src, _ := u.QueryAttr(keyuri.PINSource)
		if got, err := pin.FromSource(src); err != nil || got != botoPassword {
			t.Fatalf("pin-source %q does not read the file back: %v", src, err)
		}
		checkMode(t, path, 0o600)
	})

	t.Run("the same password is reused, another is refused, --force replaces", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "pw")
		if r := runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path); r.code != 0 {
			t.Fatalf("first: %s", r.stderr)
		}
		before, _ := os.Stat(path)
		if r := runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path); r.code != 0 {
			t.Fatalf("same password again: %s", r.stderr)
		}
		if after, _ := os.Stat(path); !os.SameFile(before, after) {
			t.Fatal("a file that already held the password was rewritten")
		}
		other := "hsm|127.0.0.1:12345|1|hunter2|16\n"
		mustFailOneLine(t, runAwskeep(t, other, vars, "keys", "from-boto-patch", "--pin-file", path), "--force")
		if data, _ := os.ReadFile(path); string(data) != botoPassword+"\n" {
			t.Fatal("a refused run changed the file")
		}
		if r := runAwskeep(t, other, vars, "keys", "from-boto-patch", "--pin-file", path, "--force"); r.code != 0 {
			t.Fatalf("--force: %s", r.stderr)
		}
		if data, _ := os.ReadFile(path); string(data) != "hunter2\n" {
			t.Fatal("--force did not replace the file")
		}
		checkMode(t, path, 0o600)
	})

	t.Run("a file open to others is replaced only with --force", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(path, []byte(botoPassword+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		mustFailOneLine(t, runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path), "mode other than 0600")
		if r := runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path, "--force"); r.code != 0 {
			t.Fatalf("--force: %s", r.stderr)
		}
		checkMode(t, path, 0o600)
	})

	t.Run("a directory in the way", func(t *testing.T) {
		path := t.TempDir()
		mustFailOneLine(t, runAwskeep(t, line, vars, "keys", "from-boto-patch", "--pin-file", path), "--force")
	})
}

func TestKeysFromBotoPatchInputErrors(t *testing.T) {
	vars := map[string]string{"HOME": t.TempDir()}
	good := "hsm|127.0.0.1:12345|1|" + botoPassword + "|16"
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"no input", "", nil, exitFailure, "no credential string"},
		{"blank line", " \n", nil, exitFailure, "no credential string"},
		{"two lines", good + "\n" + good + "\n", nil, exitFailure, "more than one line"},
		{"too long", good + strings.Repeat(" ", maxBotoInput), nil, exitFailure, "longer than"},
		{"malformed", "hsm|127.0.0.1|1|" + botoPassword + "|16\n", nil, exitFailure, "field 2 (ip:port)"},
		{"password in argv", "", []string{good}, exitUsage, "never taken from the command line"},
		{"password in argv after a flag", good, []string{"--force", good}, exitUsage, "never taken from the command line"},
		{"unknown flag", good, []string{"--password=x"}, exitUsage, "unknown flag: --password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAwskeep(t, tt.stdin, vars, append([]string{"keys", "from-boto-patch"}, tt.args...)...)
			mustFailWith(t, r, tt.code, tt.want)
			if _, err := os.Stat(filepath.Join(vars["HOME"], ".config", "awskeep")); err == nil {
				t.Fatal("a failed run wrote a pin file")
			}
		})
	}
}

// FuzzParseBotoCredential checks that the parser never panics, that its errors are the
// fixed texts (so no input, and no password, ever reaches them), and that what it accepts
// makes a URI that parses back to the same fields.
func FuzzParseBotoCredential(f *testing.F) {
	for _, s := range []string{
		"hsm|127.0.0.1:1111|1|password|10000",
		"hsm|127.0.0.1:12345|0x0001|pw|0x0010",
		"hsm|[::1]:12345|1|pw|2",
		"hsm|hsm.example.com:12345|0010|p|a|ss|2",
		"hsm|192.168.1.10|1|password|2",
		"hsm|127.0.0.1:0|0|\x00|65536",
		"hsm|||||",
		"hsm|%zz:1|1|pw|1",
	} {
		f.Add(s)
	}
	fixed := []error{errBotoPrefix, errBotoFields, errBotoAddress, errBotoAuthKeyID, errBotoPassword, errBotoControl, errBotoHMACKeyID}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseBotoCredential(s)
		if err != nil {
			for _, e := range fixed {
				if err == e {
					return
				}
			}
			t.Fatalf("error %q is not one of the fixed texts", err)
		}
		if c.authKeyID == 0 || c.hmacKeyID == 0 || c.password == "" || strings.ContainsAny(c.password, "|\n\r") {
			t.Fatalf("accepted %+v", c)
		}
		u, err := keyuri.Parse(c.keyURI("/run/awskeep/pw"))
		if err != nil {
			t.Fatalf("the URI for %q does not parse: %v", s, err)
		}
		id, _ := u.PathAttr("object-id")
		auth, _ := u.QueryAttr("auth-key-id")
		conn, _ := u.QueryAttr("connector")
		if gotID, err := keyuri.ObjectID(id); err != nil || gotID != c.hmacKeyID {
			t.Fatalf("object-id %q, want %d", id, c.hmacKeyID)
		}
		if gotAuth, err := keyuri.ObjectID(auth); err != nil || gotAuth != c.authKeyID {
			t.Fatalf("auth-key-id %q, want %d", auth, c.authKeyID)
		}
		if base, err := yubihsm.ParseConnectorURL(conn); err != nil || base != c.connector() {
			t.Fatalf("connector %q: %q, %v", conn, base, err)
		}
	})
}

func TestKeysFromBotoPatchHelp(t *testing.T) {
	r := runAwskeep(t, "", nil, "keys", "from-boto-patch", "-h")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "hsm|ip:port|authkeyid|password|hmackeyid") || !strings.Contains(r.stdout, "-pin-file") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
