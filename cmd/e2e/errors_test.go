package e2e

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestErrors checks each failure a user can run into: exit 1, nothing on stdout, one line
// on stderr that names the cause.
func TestErrors(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	u.importKey("mallory", world.mallory.SecretAccessKey)
	cp := func(key string, extra ...string) []string {
		return append([]string{"credential-process", "--key", key, "--access-key-id", world.alice.AccessKeyID,
			"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache"}, extra...)
	}
	emptyDir := t.TempDir()

	tests := []struct {
		name  string
		usage bool // a bad command line: exit 2
		env   []string
		stdin string
		args  []string
		want  []string
	}{
		{name: "malformed URI", args: cp("pkcs11:token=aws;object"), want: []string{"invalid key URI", "has no value"}},
		{name: "unknown scheme", args: cp("vault:name=prod"),
			want: []string{`no plugin found for scheme "vault"`, "awskeep-plugin-vault is not in"}},
		{name: "module-path is not a PKCS#11 module",
			args: cp("pkcs11:token=aws;object=prod?module-path=/lib/x86_64-linux-gnu/libc.so.6&pin-source=" + u.pinFile),
			want: []string{"libc.so.6", "PKCS#11"}},
		{name: "token label not found", args: cp(strings.Replace(u.keyURI("prod"), "token=aws", "token=nosuchtoken", 1)),
			want: []string{`"nosuchtoken"`}},
		{name: "key not found", args: cp(u.keyURI("nosuchkey")), want: []string{"key not found", "nosuchkey"}},
		{name: "STS AccessDenied", args: []string{"credential-process", "--key", u.keyURI("mallory"),
			"--access-key-id", world.mallory.AccessKeyID, "--endpoint-url", world.server.URL,
			"--role-arn", world.roleARN, "--no-cache"},
			want: []string{"AccessDenied", "not authorized to perform: sts:AssumeRole"}},
		{name: "wrong secret", args: []string{"credential-process", "--key", u.keyURI("mallory"),
			"--access-key-id", world.alice.AccessKeyID, "--endpoint-url", world.server.URL, "--no-cache"},
			want: []string{"SignatureDoesNotMatch"}},
		{name: "no plugin binary in the plugin directory", env: []string{"AWSKEEP_PLUGIN_DIR=" + emptyDir},
			args: cp(u.keyURI("prod")), want: []string{"awskeep-plugin-pkcs11 is not in " + emptyDir}},
		{name: "second import without --force", stdin: world.alice.SecretAccessKey + "\n",
			args: []string{"import", "--key", u.keyURI("prod")}, want: []string{"key already exists", "--force"}},
		{name: "import of a malformed secret", stdin: "not a secret\n",
			args: []string{"import", "--key", u.keyURI("other")}, want: []string{"characters an AWS secret access key never has"}},
		{name: "secret given as an argument", usage: true, args: []string{"import", "--key", u.keyURI("other"), world.alice.SecretAccessKey},
			want: []string{"secrets are never taken from the command line"}},
		{name: "missing access key id", args: []string{"credential-process", "--key", u.keyURI("prod")},
			want: []string{"no access key id", "pass --access-key-id"}},
		{name: "no key at all", usage: true, args: []string{"credential-process", "--access-key-id", world.alice.AccessKeyID},
			want: []string{"--profile NAME", "--key URI"}},
		{name: "duration out of range", args: cp(u.keyURI("prod"), "--duration", "5m"), want: []string{"--duration: duration 5m0s is outside 15m to 12h"}},
		{name: "duration not a duration", usage: true, args: cp(u.keyURI("prod"), "--duration", "soon"), want: []string{"--duration", "1h or 3600"}},
		{name: "unknown flag", usage: true, args: []string{"import", "--bogus"}, want: []string{"unknown flag: --bogus"}},
		{name: "unknown command", usage: true, args: []string{"frobnicate"}, want: []string{`unknown command "frobnicate"`}},
		{name: "unknown subcommand", usage: true, args: []string{"keys", "frobnicate"}, want: []string{`unknown command "frobnicate" for awskeep keys`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := u.run(tt.stdin, tt.env, tt.args...)
			if tt.usage {
				mustFailUsage(t, r, tt.want...)
			} else {
				mustFailClearly(t, r, tt.want...)
			}
		})
	}
}

func TestWrongPINIsTriedOnceAndTheRightOneStillWorks(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	wrong := "0000-wrong"
	u.secrets = append(u.secrets, wrong)
	key := u.token.KeyURI("prod") // no pin-source: the PIN comes from $AWSKEEP_PIN
	r := u.run("", []string{"AWSKEEP_PIN=" + wrong}, "credential-process", "--key", key,
		"--access-key-id", world.alice.AccessKeyID, "--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--no-cache")
	mustFailClearly(t, r, "PIN or password incorrect", "not retried")
	// The token is not locked: the right PIN works at once.
	mustSucceed(t, u.run("", []string{"AWSKEEP_PIN=" + userPIN}, "keys", "describe", "--key", key), "describe with the right PIN")
	out := u.credentialProcess("prod", "--role-arn", world.roleARN, "--no-cache")
	if callerARN(t, out) == "" {
		t.Fatal("no caller")
	}
}

func TestTwoKeysMatching(t *testing.T) {
	u := newUser(t)
	for _, id := range []string{"%01", "%02"} {
		key := u.token.KeyURI("twin") + "&pin-source=" + u.pinFile
		key = strings.Replace(key, "object=twin", "object=twin;id="+id, 1)
		mustSucceed(t, u.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", key), "import "+id)
	}
	r := u.run("", nil, "credential-process", "--key", u.keyURI("twin"), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--no-cache")
	mustFailClearly(t, r, "more than one key matches", "id=")
}

// TestUnreachableSTSIsBoundedByTimeout points STS at a server that accepts connections and
// never answers: the command must give up when --timeout says.
func TestUnreachableSTSIsBoundedByTimeout(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	r := u.run("", nil, "credential-process", "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", "http://"+l.Addr().String(), "--role-arn", world.roleARN, "--timeout", "2s", "--no-cache")
	// The deadline is charged to the step that ran out of time: STS, not the device or the plugin.
	mustFailClearly(t, r, "awskeep: STS AssumeRole: no answer in time", "raise --timeout", "context deadline exceeded")
	for _, wrong := range []string{"device", "plugin", "HMAC"} {
		if strings.Contains(r.stderr, wrong) {
			t.Fatalf("a silent STS is blamed on the %s: %s", wrong, r.stderr)
		}
	}

	refused := u.run("", nil, "credential-process", "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", "http://127.0.0.1:1", "--role-arn", world.roleARN, "--no-cache")
	mustFailClearly(t, refused, "STS endpoint unreachable", "connection refused")
}

func TestPINFileMustBePrivate(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	if err := os.Chmod(u.pinFile, 0o644); err != nil {
		t.Fatal(err)
	}
	r := u.run("", nil, "keys", "describe", "--key", u.keyURI("prod"))
	mustFailClearly(t, r, "chmod 600")
}

// TestErrorLineIsCapped: whatever a device or server puts in an error (here a 100 KB key
// label echoed by "key not found"), the one stderr line stays readable.
func TestErrorLineIsCapped(t *testing.T) {
	u := newUser(t)
	label := strings.Repeat("L", 100<<10)
	r := u.run("", nil, "credential-process", "--key", u.keyURI(label), "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--no-cache")
	if len(r.stderr) > 1200 || r.code != 1 {
		t.Fatalf("exit %d, an error line of %d bytes", r.code, len(r.stderr))
	}
	mustFailClearly(t, r, "no key object", "bytes cut")
}

// TestKeyWithoutPINSaysSo: a key URI that says the key has no PIN (pin-value=) on a token
// that wants one is told apart from a wrong PIN.
func TestKeyWithoutPINSaysSo(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	r := u.run("", nil, "keys", "describe", "--key", u.token.KeyURI("prod")+"&pin-value=")
	mustFailClearly(t, r, "the key needs a PIN and none was given", "pin-source")
	if strings.Contains(r.stderr, "incorrect") {
		t.Fatalf("a PIN that was never given is called incorrect: %s", r.stderr)
	}
}
