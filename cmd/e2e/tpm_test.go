package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

// The TPM backend end to end ("TPM 2.0 backend" acceptance): the built awskeep and
// awskeep-plugin-tpm against a swtpm of each test's own, moto as STS, and tpm2-tools as an
// independent TPM client.

// tpmPassword is the TPM keys' password (their authValue). It is written to the
// pin-source file without a newline, so that tpm2-tools' "file:" form reads the same bytes.
const tpmPassword = "e2e-tpm-password-1124"

// tpmHandle is the persistent handle keys are imported at; each test has its own TPM.
const tpmHandle = "0x81010002"

// tpmUser is a user whose machine has a TPM (swtpm) and a password file for its keys.
type tpmUser struct {
	*user
	sw     *swtpmtest.SWTPM
	pwFile string
}

func newTPMUser(t *testing.T) *tpmUser {
	t.Helper()
	u := newUser(t)
	tu := &tpmUser{user: u, sw: swtpmtest.Start(t), pwFile: filepath.Join(u.home, "tpm-password")}
	if err := os.WriteFile(tu.pwFile, []byte(tpmPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	u.secrets = append(u.secrets, tpmPassword)
	return tu
}

// handleURI is the key URI of a persistent key at tpmHandle with the password from the
// password file; query adds attributes such as "pcrs=sha256:23".
func (tu *tpmUser) handleURI(query ...string) string {
	return tu.uri("handle="+tpmHandle, query...)
}

// fileURI is the key URI of a key file in the user's home.
func (tu *tpmUser) fileURI(query ...string) string {
	return tu.uri("file="+tu.keyFile(), query...)
}

func (tu *tpmUser) keyFile() string { return filepath.Join(tu.home, "keys", "prod.tss2.pem") }

func (tu *tpmUser) uri(path string, query ...string) string {
	q := append([]string{"device=" + tu.sw.Device}, query...)
	q = append(q, "pin-source=file:"+tu.pwFile)
	return "tpm:" + path + "?" + strings.Join(q, "&")
}

// importTPM imports alice's secret into the key at uri, the secret on stdin.
func (tu *tpmUser) importTPM(t *testing.T, uri string) {
	t.Helper()
	mustSucceed(t, tu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", uri), "import "+uri)
}

// credentialProcessArgs are the arguments of credential-process for alice's key at uri,
// assuming the role, without the cache (so every call uses the TPM).
func credentialProcessArgs(uri string, extra ...string) []string {
	return append([]string{"credential-process", "--key", uri, "--access-key-id", world.alice.AccessKeyID,
		"--endpoint-url", world.server.URL, "--role-arn", world.roleARN, "--role-session-name", "e2e-tpm",
		"--no-cache"}, extra...)
}

// assumeRole runs credential-process for the key at uri and checks that moto accepts the
// credentials as the assumed role's.
func (tu *tpmUser) assumeRole(t *testing.T, uri string) {
	t.Helper()
	r := tu.run("", nil, credentialProcessArgs(uri)...)
	mustSucceed(t, r, "credential-process")
	out, err := credproc.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("credential-process printed something that is not credential_process JSON: %v", err)
	}
	tu.tokens = append(tu.tokens, out.SecretAccessKey, out.SessionToken)
	if got, want := callerARN(t, out), "arn:aws:sts::"+mototest.AccountID+":assumed-role/deployer/e2e-tpm"; got != want {
		t.Fatalf("caller = %q, want %q", got, want)
	}
}

// direct runs fn on a connection of its own to the TPM, closed before direct returns:
// swtpm serves one client at a time, and awskeep's plugin must be able to connect after.
func (tu *tpmUser) direct(t *testing.T, fn func(transport.TPM)) {
	t.Helper()
	c, err := tu.sw.Open(context.Background())
	if err != nil {
		t.Fatalf("connect to swtpm: %v", err)
	}
	defer c.Close()
	fn(tpmtest.Retry(c))
}

func (tu *tpmUser) lockoutCounter(t *testing.T) uint32 {
	t.Helper()
	var n uint32
	tu.direct(t, func(tpm transport.TPM) { n = tpmtest.LockoutCounter(t, tpm) })
	return n
}

// writeTPMProfile writes an AWS config whose default profile gets credentials from awskeep
// for the key at uri (writeProfile's counterpart for TPM key URIs).
func (tu *tpmUser) writeTPMProfile(t *testing.T, uri, extra string) {
	t.Helper()
	line := fmt.Sprintf(`%s credential-process --key "%s" --access-key-id %s --endpoint-url %s %s`,
		awskeep, uri, world.alice.AccessKeyID, world.server.URL, extra)
	config := "[default]\nregion = us-east-1\ncredential_process = " + line + "\n"
	if err := os.WriteFile(filepath.Join(tu.home, "aws-config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTPMImportThenAssumeRole(t *testing.T) {
	tu := newTPMUser(t)
	if err := os.Mkdir(filepath.Dir(tu.keyFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, uri string }{
		{"handle", tu.handleURI()},
		{"file", tu.fileURI()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tu.importTPM(t, tt.uri)
			tu.assumeRole(t, tt.uri)
		})
	}

	t.Run("the key file is 0600 and does not hold the secret", func(t *testing.T) {
		fi, err := os.Stat(tu.keyFile())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
		}
		data, err := os.ReadFile(tu.keyFile())
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "TSS2 PRIVATE KEY" {
			t.Fatalf("key file is not a TSS2 PRIVATE KEY PEM")
		}
		// The PEM body is base64: look in the decoded DER as well as in the text.
		for _, b := range [][]byte{data, block.Bytes} {
			if bytes.Contains(b, []byte(world.alice.SecretAccessKey)) || bytes.Contains(b, []byte(tpmPassword)) {
				t.Fatal("the key file holds the AWS secret or the password in clear")
			}
		}
	})

	t.Run("the secret is in no file of the user's", func(t *testing.T) {
		notInFiles(t, tu.home, world.alice.SecretAccessKey, "", "the AWS secret")
		notInFiles(t, tu.home, tpmPassword, tu.pwFile, "the TPM key password")
	})

	t.Run("AWS CLI", func(t *testing.T) {
		tu.writeTPMProfile(t, tu.handleURI(), "--role-arn "+world.roleARN+" --role-session-name cli-tpm")
		for version, cli := range awsCLIs(t) {
			t.Run(version, func(t *testing.T) {
				r := tu.exec(cli, "", nil, "--endpoint-url", world.server.URL, "sts", "get-caller-identity", "--output", "text")
				mustSucceed(t, r, "aws sts get-caller-identity")
				if !strings.Contains(r.stdout, "assumed-role/deployer/cli-tpm") {
					t.Fatalf("aws sts get-caller-identity = %q, want the assumed role", r.stdout)
				}
				s3 := tu.exec(cli, "", nil, "--endpoint-url", world.server.URL, "s3api", "list-objects-v2",
					"--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
				mustSucceed(t, s3, "aws s3api list-objects-v2")
				if strings.TrimSpace(s3.stdout) != object {
					t.Fatalf("aws s3api list-objects-v2 = %q, want %q", s3.stdout, object)
				}
			})
		}
	})
}

// TestTPMKeysSurviveReboot restarts the TPM the way a reboot does: the persistent key and
// the key file still work.
func TestTPMKeysSurviveReboot(t *testing.T) {
	tu := newTPMUser(t)
	if err := os.Mkdir(filepath.Dir(tu.keyFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	uris := []string{tu.handleURI(), tu.fileURI()}
	for _, uri := range uris {
		tu.importTPM(t, uri)
		tu.assumeRole(t, uri)
	}
	tu.sw.Restart(t)
	for _, uri := range uris {
		tu.assumeRole(t, uri)
	}
}

// TestTPMWrongPassword checks that a wrong password fails clearly, is sent to the TPM
// exactly once (one failure on its dictionary-attack counter), and that the right one
// works right after.
func TestTPMWrongPassword(t *testing.T) {
	tu := newTPMUser(t)
	if err := os.Mkdir(filepath.Dir(tu.keyFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	const wrong = "not-the-tpm-password"
	tu.secrets = append(tu.secrets, wrong)
	wrongFile := filepath.Join(tu.home, "wrong-password")
	if err := os.WriteFile(wrongFile, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, uri string }{
		{"handle", tu.handleURI()},
		{"file", tu.fileURI()},
		{"handle with PCR policy", strings.Replace(tu.handleURI("pcrs=sha256:16"), tpmHandle, "0x81010003", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tu.importTPM(t, tt.uri)
			wrongURI := strings.Replace(tt.uri, "pin-source=file:"+tu.pwFile, "pin-source=file:"+wrongFile, 1)
			before := tu.lockoutCounter(t)
			r := tu.run("", nil, credentialProcessArgs(wrongURI)...)
			mustFailClearly(t, r, "wrong password for the TPM key", "PIN or password incorrect", "not retried")
			t.Logf("wrong password: %s", r.stderr)
			if after := tu.lockoutCounter(t); after != before+1 {
				t.Fatalf("lockout counter went from %d to %d, want exactly one failure", before, after)
			}
			tu.assumeRole(t, tt.uri)
			// Under the TPM's maxTries for the next case.
			tu.direct(t, func(tpm transport.TPM) { tpmtest.ClearLockout(t, tpm) })
		})
	}
}

// TestTPMLockout checks that once the TPM is in dictionary-attack lockout, even the right
// password fails, and the message says the TPM is in lockout.
func TestTPMLockout(t *testing.T) {
	tu := newTPMUser(t)
	const maxTries = 2
	// Two failures lock the TPM; one is forgiven every 600 s, longer than the test.
	tu.direct(t, func(tpm transport.TPM) { tpmtest.SetDictionaryAttackParameters(t, tpm, maxTries, 600, 600) })
	uri := tu.handleURI()
	tu.importTPM(t, uri)
	wrongURI := strings.Replace(uri, "&pin-source=file:"+tu.pwFile, "", 1)
	const wrong = "not-the-tpm-password"
	tu.secrets = append(tu.secrets, wrong)
	env := []string{"AWSKEEP_PIN=" + wrong}
	for i := range maxTries {
		r := tu.run("", env, credentialProcessArgs(wrongURI)...)
		mustFailClearly(t, r, "wrong password for the TPM key")
		if n := tu.lockoutCounter(t); n != uint32(i+1) {
			t.Fatalf("lockout counter after %d wrong passwords = %d", i+1, n)
		}
	}
	for _, tt := range []struct {
		name string
		env  []string
		uri  string
	}{
		{"right password", nil, uri},
		{"wrong password", env, wrongURI},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tu.run("", tt.env, credentialProcessArgs(tt.uri)...)
			mustFailClearly(t, r, "the TPM is in dictionary-attack lockout", "PIN locked", "600 s")
			t.Logf("in lockout: %s", r.stderr)
		})
	}
	// Lockout costs no further failures.
	if n := tu.lockoutCounter(t); n != maxTries {
		t.Fatalf("lockout counter in lockout = %d, want %d", n, maxTries)
	}
	tu.direct(t, func(tpm transport.TPM) { tpmtest.ClearLockout(t, tpm) })
	tu.assumeRole(t, uri)
}

// TestTPMPCRPolicy checks a key bound to PCR 23: it works while the PCR keeps its value of
// the import, fails clearly once the PCR is extended, and works again after a reboot
// resets the PCR.
func TestTPMPCRPolicy(t *testing.T) {
	tu := newTPMUser(t)
	if err := os.Mkdir(filepath.Dir(tu.keyFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	uris := []string{tu.handleURI("pcrs=sha256:23"), tu.fileURI("pcrs=sha256:23")}
	for _, uri := range uris {
		tu.importTPM(t, uri)
		tu.assumeRole(t, uri)
	}
	tu.direct(t, func(tpm transport.TPM) { tpmtest.ExtendPCR(t, tpm, 23, []byte("something else booted")) })
	before := tu.lockoutCounter(t)
	for _, uri := range uris {
		r := tu.run("", nil, credentialProcessArgs(uri)...)
		mustFailClearly(t, r, "PCR policy not satisfied", "PCR 23 changed since import", "permission denied")
		t.Logf("after extend: %s", r.stderr)
	}
	if after := tu.lockoutCounter(t); after != before {
		t.Fatalf("lockout counter went from %d to %d: a PCR mismatch counted as a wrong password", before, after)
	}
	tu.sw.Restart(t) // PCR 23 back to zeros, its value at import
	for _, uri := range uris {
		tu.assumeRole(t, uri)
	}
}

// TestTPMToolsHMAC checks the imported key with an independent TPM client: tpm2_hmac of
// tpm2-tools on the same persistent handle computes HMAC-SHA256("AWS4"+secret, date), as
// does the plugin binary for the same message.
func TestTPMToolsHMAC(t *testing.T) {
	tpm2HMAC, err := exec.LookPath("tpm2_hmac")
	if err != nil {
		t.Fatal("tpm2_hmac not found: apt-get install tpm2-tools")
	}
	tu := newTPMUser(t)
	uri := tu.handleURI()
	tu.importTPM(t, uri)
	msg := []byte("20261124")
	m := hmac.New(sha256.New, []byte("AWS4"+world.alice.SecretAccessKey))
	m.Write(msg)
	want := m.Sum(nil)

	dir := t.TempDir()
	in, out := filepath.Join(dir, "date"), filepath.Join(dir, "kdate")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	// The password comes from the file, not argv.
	r := tu.exec(tpm2HMAC, "", []string{"TPM2TOOLS_TCTI=" + tu.sw.TCTI()},
		"-c", tpmHandle, "-p", "file:"+tu.pwFile, "-g", "sha256", "-o", out, in)
	mustSucceed(t, r, "tpm2_hmac")
	theirs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(theirs, want) {
		t.Fatalf("tpm2_hmac = %x, want HMAC-SHA256(\"AWS4\"+secret, %q) = %x", theirs, msg, want)
	}

	// The plugin binary the host starts, for the same message. tpm2_hmac has disconnected.
	backend := conformance.LaunchPlugin(t, filepath.Join(pluginDir, "awskeep-plugin-tpm"))
	mine, err := backend.HMAC(context.Background(),
		plugins.Key{URI: "tpm:handle=" + tpmHandle + "?device=" + tu.sw.Device, PIN: tpmPassword}, msg)
	if err != nil {
		t.Fatalf("plugin HMAC: %v", err)
	}
	if !bytes.Equal(mine, want) {
		t.Fatalf("plugin HMAC = %x, want %x", mine, want)
	}
}
