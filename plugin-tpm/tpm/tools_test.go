package tpm_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tpm2Tool runs a tpm2-tools command against tg's swtpm. The backend has closed its
// connection by then: swtpm serves one client at a time.
func tpm2Tool(t *testing.T, tg *target, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(args[0]); err != nil {
		t.Fatalf("%s not found (%v): apt-get install tpm2-tools", args[0], err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "TPM2TOOLS_TCTI="+tg.sw.TCTI())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestTPM2ToolsHMAC checks the backend's key with an independent client: tpm2_hmac of
// tpm2-tools (through the TSS's swtpm TCTI) on the same persistent handle computes the same
// HMAC, and tpm2_readpublic sees the attributes that keep the key in the TPM.
func TestTPM2ToolsHMAC(t *testing.T) {
	tg := swtpm(t)
	const handle = "0x81010abc"
	k := tg.handleKey(t, "tools pw")
	k.URI = "tpm:handle=" + handle + tg.query
	mustImport(t, tg.backend, k, material)
	msg := []byte("20150830")
	mine, err := tg.backend.HMAC(context.Background(), k, msg)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	in, out := filepath.Join(dir, "msg"), filepath.Join(dir, "mac")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	tpm2Tool(t, tg, "tpm2_hmac", "-c", handle, "-p", "tools pw", "-g", "sha256", "-o", out, in)
	theirs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(theirs, mine) || !bytes.Equal(theirs, softHMAC(material, msg)) {
		t.Fatalf("tpm2_hmac = %x, backend = %x, crypto/hmac = %x", theirs, mine, softHMAC(material, msg))
	}

	pub := string(tpm2Tool(t, tg, "tpm2_readpublic", "-c", handle))
	for _, want := range []string{"keyedhash", "fixedtpm|fixedparent|userwithauth|sign", "hmac"} {
		if !strings.Contains(pub, want) {
			t.Errorf("tpm2_readpublic output lacks %q:\n%s", want, pub)
		}
	}
	if strings.Contains(pub, "sensitivedataorigin") {
		t.Errorf("tpm2_readpublic shows sensitivedataorigin for an imported key:\n%s", pub)
	}
}
