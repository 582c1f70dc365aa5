package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The reference programs awskeep's credential-process is measured against, built by setup
// from testdata/peers: what a cache hit could cost at best (shell stub, Go hello world, a
// stdlib JSON reader) and what fresh credentials could cost at best (the STS floor) or cost
// a helper that re-initialises PKCS#11 for every signature, as aws-pkcs-process-credential
// does.

// staticJSON is what the stub and the hello world print.
const staticJSON = `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"x","SessionToken":"y","Expiration":"2099-01-01T00:00:00Z"}`

// stub is a credential_process that prints static JSON: the floor any helper is measured
// against.
func stub(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "stub.sh")
	script := "#!/bin/sh\nprintf '%s\\n' '" + staticJSON + "'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	return path
}

// goHello is the Go hello world: a Go binary that prints the static JSON.
func goHello() *exec.Cmd { return exec.Command(filepath.Join(peerDir, "hello")) }

// hostStart starts a Go program that links what a plugin host links (the plugin SDK and the
// SDK's STS client) and exits: a floor under any cold path with plugin isolation.
func hostStart() *exec.Cmd { return exec.Command(filepath.Join(peerDir, "hoststart")) }

// jsonReader reads a credential file and prints it, as a helper with a file cache does on
// a hit, with the standard library only.
func jsonReader(b *testing.B) *exec.Cmd {
	b.Helper()
	path := filepath.Join(b.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(staticJSON+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return exec.Command(filepath.Join(peerDir, "jsonreader"), path)
}

// stsFloor signs one STS call with the standard library and alice's secret (from a file)
// and sends it to moto: GetSessionToken, or AssumeRole of role when it is not empty.
func stsFloor(b *testing.B, role string) *exec.Cmd {
	b.Helper()
	secret := filepath.Join(b.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte(alice.SecretAccessKey), 0o600); err != nil {
		b.Fatal(err)
	}
	return exec.Command(filepath.Join(peerDir, "stsfloor"), append(stsArgs(role), "-secret-file", secret)...)
}

// pkcs11Reinit is the STS floor with kDate from the SoftHSM token of dev, loading and
// initialising the module, logging in, signing and finalising in every invocation. The
// PIN goes in the environment.
func pkcs11Reinit(b *testing.B, dev device, role string) *exec.Cmd {
	b.Helper()
	u, err := keyuri.Parse(dev.key.URI)
	if err != nil {
		b.Fatal(err)
	}
	token, _ := u.PathAttr("token")
	object, _ := u.PathAttr("object")
	module, _ := u.QueryAttr("module-path")
	cmd := exec.Command(filepath.Join(peerDir, "pkcs11reinit"),
		append(stsArgs(role), "-module", module, "-token", token, "-object", object)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PKCS11_PIN=" + dev.key.PIN}, dev.env...)
	return cmd
}

func stsArgs(role string) []string {
	args := []string{"-endpoint", moto.URL, "-access-key-id", alice.AccessKeyID}
	if role != "" {
		args = append(args, "-role-arn", role, "-role-session-name", "bench")
	}
	return args
}

// runCredentialProcess runs a fresh copy of cmd, as a client runs its credential_process,
// and fails b unless it printed credential JSON.
func runCredentialProcess(b *testing.B, cmd *exec.Cmd) {
	c := exec.Command(cmd.Path, cmd.Args[1:]...)
	c.Env = cmd.Env
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil || !bytes.HasPrefix(out, []byte(`{"Version":1`)) {
		b.Fatalf("%s: %v: %s%s", filepath.Base(cmd.Path), err, out, stderr.Bytes())
	}
}
