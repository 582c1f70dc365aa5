package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// The YubiHSM 2 backend end to end ("YubiHSM 2 backend" acceptance): the built awskeep and
// awskeep-plugin-yubihsm against an awskeep-yubihsm-sim subprocess of each test's own (a
// simulated device behind the yubihsm-connector HTTP API), moto as STS, both AWS CLIs, and
// `awskeep keys from-boto-patch` for users of the boto patch.
//
// Two faults are covered closer to the device, where they can be injected: a session that
// expires during use (plugin-yubihsm yubihsm.TestSessionExpiryRecovered and backend
// TestDeviceFaults "sessions dropped") and a corrupted response MAC
// (yubihsm.TestCorruptedResponseMACRefused, sim.TestCorruptResponseMAC and backend
// TestDeviceFaults "corrupted response MAC").

// yubiPassword is the password of the simulator's authentication key 1. It goes to the
// simulator in a -password-file and to awskeep in a pin-source file, never in argv.
const yubiPassword = "e2e-yubihsm-password-4471"

// yubiObject is the object id alice's key is imported at.
const yubiObject = "0x0010"

var (
	yubiBuild    sync.Once
	yubiSimBin   string
	yubiBuildErr error
)

// buildYubiHSM builds awskeep-plugin-yubihsm into pluginDir and awskeep-yubihsm-sim into a
// directory of its own (it is no plugin), once for the package, and returns the simulator.
func buildYubiHSM(t *testing.T) string {
	t.Helper()
	yubiBuild.Do(func() {
		tools := filepath.Join(filepath.Dir(pluginDir), "yubihsm-tools")
		for _, b := range []struct{ dir, pkg string }{
			{pluginDir, "github.com/awskeep/awskeep/plugin-yubihsm/cmd/awskeep-plugin-yubihsm"},
			{tools, "github.com/awskeep/awskeep/plugin-yubihsm/cmd/awskeep-yubihsm-sim"},
		} {
			if out, err := exec.Command("go", "build", "-o", b.dir+"/", b.pkg).CombinedOutput(); err != nil {
				yubiBuildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
		yubiSimBin = filepath.Join(tools, "awskeep-yubihsm-sim")
	})
	if yubiBuildErr != nil {
		t.Fatal(yubiBuildErr)
	}
	return yubiSimBin
}

// yubiUser is a user whose machine reaches a YubiHSM 2 (the simulator) through a connector.
type yubiUser struct {
	*user
	addr   string // the connector, 127.0.0.1:PORT
	pwFile string // yubiPassword, mode 0600
}

func newYubiUser(t *testing.T) *yubiUser {
	t.Helper()
	u := newUser(t)
	yu := &yubiUser{user: u, pwFile: filepath.Join(u.home, "yubihsm-password")}
	if err := os.WriteFile(yu.pwFile, []byte(yubiPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.secrets = append(u.secrets, yubiPassword)
	yu.addr = startYubiSim(t, buildYubiHSM(t), yu.pwFile)
	return yu
}

// startYubiSim starts the simulator with the password in pwFile, reads the address it
// prints on its first line, and stops it (by pid) when the test ends.
func startYubiSim(t *testing.T, bin, pwFile string) string {
	t.Helper()
	cmd := exec.Command(bin, "-password-file", pwFile)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // not $AWSKEEP_YUBIHSM_SIM_PASSWORD
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("awskeep-yubihsm-sim printed no address: %v\n%s", err, stderr.String())
	}
	addr := strings.TrimSpace(line)
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("awskeep-yubihsm-sim printed %q, want 127.0.0.1:PORT", line)
	}
	return addr
}

// uri is the key URI of object on the user's device, reached with authentication key 1
// and the password in pwFile; query replaces those defaults ("auth-key-id=2",
// "pin-source=file:/other").
func (yu *yubiUser) uri(object string, query ...string) string {
	q := map[string]string{"connector": "http://" + yu.addr, "auth-key-id": "1", "pin-source": "file:" + yu.pwFile}
	for _, kv := range query {
		k, v, _ := strings.Cut(kv, "=")
		q[k] = v
	}
	return fmt.Sprintf("yubihsm:object-id=%s?connector=%s&auth-key-id=%s&pin-source=%s", object, q["connector"], q["auth-key-id"], q["pin-source"])
}

// client is a client of the test's own, outside awskeep, to check and arrange the device.
func (yu *yubiUser) client(t *testing.T) *yubihsm.Client {
	t.Helper()
	conn, err := yubihsm.NewConnector("http://" + yu.addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := yubihsm.NewClient(conn, 1, yubiPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func (yu *yubiUser) importAlice(t *testing.T) {
	t.Helper()
	r := yu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", yu.uri(yubiObject))
	mustSucceed(t, r, "import")
}

// yubiCredentialProcessArgs are the arguments of credential-process for alice's key at uri,
// assuming the role, without the cache (so every call reaches the device).
func yubiCredentialProcessArgs(uri string) []string {
	return []string{"credential-process", "--key", uri, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--role-session-name", "e2e-yubihsm",
		"--no-cache"}
}

// assumeRole runs credential-process for the key at uri and checks that moto accepts the
// credentials as the assumed role's.
func (yu *yubiUser) assumeRole(t *testing.T, uri string) {
	t.Helper()
	r := yu.run("", nil, yubiCredentialProcessArgs(uri)...)
	mustSucceed(t, r, "credential-process")
	out, err := credproc.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("credential-process printed something that is not credential_process JSON: %v", err)
	}
	if strings.Count(r.stdout, "\n") != 1 || r.stderr != "" {
		t.Fatalf("credential-process printed more than the JSON: stderr %q", r.stderr)
	}
	yu.tokens = append(yu.tokens, out.SecretAccessKey, out.SessionToken)
	if got, want := callerARN(t, out), "arn:aws:sts::"+mototest.AccountID+":assumed-role/deployer/e2e-yubihsm"; got != want {
		t.Fatalf("caller = %q, want %q", got, want)
	}
}

// writeYubiProfile writes an AWS config whose default profile gets credentials from
// awskeep for the key at uri (writeProfile's counterpart for yubihsm key URIs).
func (yu *yubiUser) writeYubiProfile(t *testing.T, uri, extra string) {
	t.Helper()
	line := fmt.Sprintf(`%s credential-process --key "%s" --access-key-id %s --endpoint-url %s %s`,
		awskeep, uri, world.alice.AccessKeyID, world.server.URL, extra)
	config := "[default]\nregion = us-east-1\ncredential_process = " + line + "\n"
	if err := os.WriteFile(filepath.Join(yu.home, "aws-config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestYubiHSMImportThenAssumeRole(t *testing.T) {
	yu := newYubiUser(t)
	r := yu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", yu.uri(yubiObject))
	mustSucceed(t, r, "import")
	if want := "imported yubihsm:object-id=" + yubiObject + "?connector=http://" + yu.addr + "&auth-key-id=1\n"; r.stdout != want {
		t.Fatalf("import printed %q, want %q (without the pin-source)", r.stdout, want)
	}

	t.Run("a second import is refused without --force", func(t *testing.T) {
		again := yu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", yu.uri(yubiObject))
		mustFailClearly(t, again, "key already exists", "--force")
	})

	t.Run("keys describe", func(t *testing.T) {
		r := yu.run("", nil, "keys", "describe", "--key", yu.uri(yubiObject))
		mustSucceed(t, r, "keys describe")
		var d struct {
			Exists, Extractable, Sensitive bool
			Algorithm, URI                 string
			Attributes                     map[string]string
		}
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("keys describe printed %q: %v", r.stdout, err)
		}
		if !d.Exists || d.Extractable || !d.Sensitive || d.Algorithm != "hmac-sha256" || strings.Contains(d.URI, "pin-source") {
			t.Fatalf("keys describe = %+v", d)
		}
		if caps := d.Attributes["capabilities"]; caps != "sign-hmac" {
			t.Fatalf("the key's capabilities are %q, want sign-hmac only", caps)
		}
	})

	t.Run("the device computes kDate", func(t *testing.T) {
		// SIGN_HMAC through a client of the test's own agrees with HMAC("AWS4"+secret, date),
		// the first SigV4 derivation step.
		date := []byte("20250101")
		tag, err := yu.client(t).SignHMAC(context.Background(), 0x10, date)
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, []byte("AWS4"+world.alice.SecretAccessKey))
		m.Write(date)
		if !hmac.Equal(tag, m.Sum(nil)) {
			t.Fatal("the device's HMAC is not HMAC(\"AWS4\"+secret, date)")
		}
	})

	t.Run("credential-process with a role", func(t *testing.T) {
		yu.assumeRole(t, yu.uri(yubiObject))
	})

	t.Run("AWS CLI", func(t *testing.T) {
		yu.writeYubiProfile(t, yu.uri(yubiObject), "--role-arn "+world.roleARN+" --role-session-name cli-yubihsm")
		for version, cli := range awsCLIs(t) {
			t.Run(version, func(t *testing.T) {
				r := yu.exec(cli, "", nil, "--endpoint-url", world.server.URL, "sts", "get-caller-identity", "--output", "text")
				mustSucceed(t, r, "aws sts get-caller-identity")
				if !strings.Contains(r.stdout, "assumed-role/deployer/cli-yubihsm") {
					t.Fatalf("aws sts get-caller-identity = %q, want the assumed role", r.stdout)
				}
				s3 := yu.exec(cli, "", nil, "--endpoint-url", world.server.URL, "s3api", "list-objects-v2",
					"--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
				mustSucceed(t, s3, "aws s3api list-objects-v2")
				if strings.TrimSpace(s3.stdout) != object {
					t.Fatalf("aws s3api list-objects-v2 = %q, want %q", s3.stdout, object)
				}
			})
		}
	})

	t.Run("the secret and the password are in no other file", func(t *testing.T) {
		notInFiles(t, yu.home, world.alice.SecretAccessKey, "", "the AWS secret")
		notInFiles(t, yu.home, yubiPassword, yu.pwFile, "the YubiHSM password")
	})

	t.Run("keys delete", func(t *testing.T) {
		mustSucceed(t, yu.run("", nil, "keys", "delete", "--key", yu.uri(yubiObject)), "keys delete")
		mustFailClearly(t, yu.run("", nil, yubiCredentialProcessArgs(yu.uri(yubiObject))...), "key not found")
	})
}

func TestYubiHSMFromBotoPatch(t *testing.T) {
	yu := newYubiUser(t)
	yu.importAlice(t)
	pinFile := filepath.Join(yu.home, ".config", "awskeep", "yubihsm-"+strings.ReplaceAll(yu.addr, ":", "-")+"-auth-1.pw")
	want := "yubihsm:object-id=0x0010?connector=http://" + yu.addr + "&auth-key-id=1&pin-source=file:" + pinFile + "\n"

	// The patch's own form (decimal ids, read with Python's int()) and the hex form give
	// the same URI; the second run finds the password already in the file.
	for _, line := range []string{
		"hsm|" + yu.addr + "|1|" + yubiPassword + "|16\n",
		"hsm|" + yu.addr + "|0x0001|" + yubiPassword + "|0x0010\n",
	} {
		r := yu.run(line, nil, "keys", "from-boto-patch")
		mustSucceed(t, r, "keys from-boto-patch")
		if r.stdout != want || r.stderr != "" {
			t.Fatalf("keys from-boto-patch printed %q (stderr %q), want %q", r.stdout, r.stderr, want)
		}
	}
	for path, mode := range map[string]os.FileMode{pinFile: 0o600, filepath.Dir(pinFile): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(path); err != nil || fi.Mode()&(os.ModeType|os.ModePerm) != mode {
			t.Fatalf("%s: %v, want mode %v", path, err, mode)
		}
	}
	if strings.Contains(want, "/api") {
		t.Fatalf("the URI keeps the boto patch's connector path: %s", want)
	}

	t.Run("the URI works for credential-process", func(t *testing.T) {
		yu.assumeRole(t, strings.TrimSpace(want))
	})

	t.Run("keys describe sees the key", func(t *testing.T) {
		r := yu.run("", nil, "keys", "describe", "--key", strings.TrimSpace(want))
		mustSucceed(t, r, "keys describe")
		if !strings.Contains(r.stdout, `"exists": true`) {
			t.Fatalf("keys describe = %s", r.stdout)
		}
	})

	t.Run("another password is not written over the file", func(t *testing.T) {
		r := yu.run("hsm|"+yu.addr+"|1|not-the-password-8812|16\n", nil, "keys", "from-boto-patch")
		mustFailClearly(t, r, pinFile, "--force")
		if strings.Contains(r.stderr, "not-the-password-8812") {
			t.Fatalf("the error holds the password: %s", r.stderr)
		}
	})

	t.Run("the string is refused in argv and not echoed", func(t *testing.T) {
		r := yu.run("", nil, "keys", "from-boto-patch", "hsm|"+yu.addr+"|1|"+yubiPassword+"|16")
		mustFailUsage(t, r, "never taken from the command line")
	})

	t.Run("malformed strings name the field, not the value", func(t *testing.T) {
		for line, want := range map[string]string{
			"hsm|" + yu.addr + "|1|" + yubiPassword + "\n":                       "exactly 5",
			"hsm|127.0.0.1|1|" + yubiPassword + "|16\n":                          "field 2 (ip:port)",
			"hsm|" + yu.addr + "|" + yubiPassword + "|" + yubiPassword + "|16\n": "field 3 (authkeyid)",
			"hsm|" + yu.addr + "|1|" + yubiPassword + "|" + yubiPassword + "\n":  "field 5 (hmackeyid)",
		} {
			mustFailClearly(t, yu.run(line, nil, "keys", "from-boto-patch"), want)
		}
	})
}

func TestYubiHSMErrors(t *testing.T) {
	yu := newYubiUser(t)
	yu.importAlice(t)

	// An authentication key that may verify HMACs but not compute them.
	const noSignPassword = "e2e-yubihsm-verify-only-6203"
	yu.secrets = append(yu.secrets, noSignPassword)
	if _, err := yu.client(t).PutAuthenticationKey(context.Background(), yubihsm.ObjectSpec{
		ID: 2, Label: "verify only", Domains: 1, Capabilities: yubihsm.CapVerifyHMAC,
	}, yubihsm.CapVerifyHMAC, noSignPassword); err != nil {
		t.Fatalf("create authentication key 2: %v", err)
	}
	noSignFile := filepath.Join(yu.home, "verify-only-password")
	const wrongPassword = "e2e-yubihsm-wrong-9930"
	yu.secrets = append(yu.secrets, wrongPassword)
	wrongFile := filepath.Join(yu.home, "wrong-password")
	for file, pw := range map[string]string{noSignFile: noSignPassword, wrongFile: wrongPassword} {
		if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"wrong password", yubiCredentialProcessArgs(yu.uri(yubiObject, "pin-source=file:"+wrongFile)),
			[]string{"PIN or password incorrect", "authentication key 0x0001", "not retried"}},
		{"wrong password on import", []string{"import", "--key", yu.uri("0x0011", "pin-source=file:"+wrongFile)},
			[]string{"PIN or password incorrect", "not retried"}},
		{"object missing", yubiCredentialProcessArgs(yu.uri("0x0020")),
			[]string{"key not found", "0x0020", "import the key"}},
		{"authentication key without sign-hmac", yubiCredentialProcessArgs(yu.uri(yubiObject, "auth-key-id=2", "pin-source=file:"+noSignFile)),
			[]string{"permission denied", "authentication key 0x0002", "sign-hmac"}},
		{"authentication key missing", yubiCredentialProcessArgs(yu.uri(yubiObject, "auth-key-id=9")),
			[]string{"no authentication key 0x0009", "auth-key-id"}},
		{"connector down", yubiCredentialProcessArgs(yu.uri(yubiObject, "connector=http://"+downAddr)),
			[]string{"device unavailable", downAddr, "yubihsm-connector running"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := ""
			if tt.args[0] == "import" {
				stdin = world.alice.SecretAccessKey + "\n"
			}
			mustFailClearly(t, yu.run(stdin, nil, tt.args...), tt.wants...)
		})
	}

	t.Run("the device still serves the right password", func(t *testing.T) {
		yu.assumeRole(t, yu.uri(yubiObject))
	})
}
