package tpm_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
)

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return strconv.Itoa(port)
}

func TestDeviceUnavailable(t *testing.T) {
	regular := filepath.Join(t.TempDir(), "not-a-device")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, device, want string }{
		{"nothing listening", "tcp://127.0.0.1:" + closedPort(t), "is the TPM or simulator running"},
		{"no such device", filepath.Join(t.TempDir(), "tpmrm9"), "no such device"},
		{"regular file", regular, "not a TPM character device"},
	}
	b := tpm.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := plugins.Key{URI: "tpm:handle=0x81010002?device=" + tt.device, PIN: "pw"}
			ctx := context.Background()
			_, errHMAC := b.HMAC(ctx, k, []byte("x"))
			errImport := b.ImportKey(ctx, k, material, plugins.ImportOptions{})
			_, errDescribe := b.DescribeKey(ctx, k)
			errDelete := b.DeleteKey(ctx, k)
			for _, err := range []error{errHMAC, errImport, errDescribe, errDelete} {
				if !errors.Is(err, plugins.ErrDeviceUnavailable) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want ErrDeviceUnavailable mentioning %q", err, tt.want)
				}
			}
		})
	}
}

func TestInvalidKeyURI(t *testing.T) {
	tg := swtpm(t)
	tests := []struct{ name, uri, want string }{
		{"other scheme", "pkcs11:object=a", "not served by this backend"},
		{"no key", "tpm:?device=/dev/tpmrm0", "exactly one of handle= or file="},
		{"transient handle", "tpm:handle=0x80000001", "not a persistent handle"},
		{"bad pcrs", "tpm:handle=0x81010002?pcrs=sha256:24", "pcrs="},
		{"bad device", "tpm:handle=0x81010002?device=ftp://host", "want a path such as /dev/tpmrm0 or tcp://HOST:PORT"},
		{"tcp without port", "tpm:handle=0x81010002?device=tcp://127.0.0.1", "want tcp://HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tg.backend.HMAC(context.Background(), plugins.Key{URI: tt.uri}, []byte("x"))
			if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("HMAC(%s): %v, want ErrInvalidKeyURI mentioning %q", tt.uri, err, tt.want)
			}
		})
	}
	// The platform hierarchy's half of the persistent range is not the owner's to use.
	err := tg.backend.ImportKey(context.Background(), plugins.Key{URI: "tpm:handle=0x81800000" + tg.query}, material, plugins.ImportOptions{})
	if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), "owner persistent handle") {
		t.Fatalf("ImportKey at a platform handle: %v, want ErrInvalidKeyURI", err)
	}
}

func TestMaterialSizes(t *testing.T) {
	tg := swtpm(t)
	for _, n := range []int{1, 44, 64} {
		k := tg.fileKey(t, "pw")
		m := bytes.Repeat([]byte{'k'}, n)
		mustImport(t, tg.backend, k, m)
		got, err := tg.backend.HMAC(context.Background(), k, []byte("20150830"))
		if err != nil || !bytes.Equal(got, softHMAC(m, []byte("20150830"))) {
			t.Fatalf("%d-byte key: HMAC = %x, %v", n, got, err)
		}
	}
	for _, n := range []int{0, 65, 128} {
		err := tg.backend.ImportKey(context.Background(), tg.fileKey(t, "pw"), make([]byte, n), plugins.ImportOptions{})
		if !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "1 to 64 bytes") {
			t.Fatalf("%d-byte key: %v, want ErrUnsupported saying 1 to 64 bytes", n, err)
		}
	}
}

func TestDescribeKey(t *testing.T) {
	tg := swtpm(t)
	ctx := context.Background()
	for _, kind := range keyKinds {
		t.Run(kind.name, func(t *testing.T) {
			k := kind.new(tg, t, "pw")
			d, err := tg.backend.DescribeKey(ctx, k)
			if err != nil || d.Exists {
				t.Fatalf("DescribeKey before import = %+v, %v; want Exists false", d, err)
			}
			mustImport(t, tg.backend, k, material)
			d, err = tg.backend.DescribeKey(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Exists || d.Algorithm != plugins.AlgorithmHMACSHA256 || d.Extractable || !d.Sensitive {
				t.Fatalf("DescribeKey = %+v", d)
			}
			if len(d.Attributes["name"]) != 68 || !strings.HasPrefix(d.Attributes["name"], "000b") {
				t.Errorf("name attribute %q: want a SHA-256 TPM Name (000b + 32 bytes)", d.Attributes["name"])
			}
			if d.Attributes["auth"] != "password" {
				t.Errorf("auth attribute %q, want password", d.Attributes["auth"])
			}
			switch kind.name {
			case "handle":
				if d.Attributes["handle"] == "" || !strings.HasPrefix(d.Label, "handle 0x8101") || d.Attributes["device"] != tg.sw.Device {
					t.Errorf("DescribeKey = %+v: want handle, label and device", d)
				}
			case "file":
				if d.Attributes["file"] == "" || !strings.HasPrefix(d.Label, "file /") {
					t.Errorf("DescribeKey = %+v: want file and label", d)
				}
			}
		})
	}
}

// TestKeyFile checks what ImportKey writes: a 0600 TSS2 PEM key file whose bytes do not
// hold the secret (the private blob is encrypted by the TPM's storage key).
func TestKeyFile(t *testing.T) {
	tg := swtpm(t)
	k := tg.fileKey(t, "pw")
	mustImport(t, tg.backend, k, material)
	path := strings.TrimPrefix(strings.SplitN(k.URI, "?", 2)[0], "tpm:file=")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "TSS2 PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("key file is not one TSS2 PRIVATE KEY PEM block:\n%s", data)
	}
	secret := material[4:]
	if bytes.Contains(block.Bytes, secret) || bytes.Contains(data, secret) {
		t.Fatal("the key file holds the secret in clear")
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %v, %v: want only the key file (no temporary left)", entries, err)
	}
}

// TestNotAnAwskeepKey checks that the backend does not use, replace or delete what it did
// not create: a storage key at a persistent handle, a file that is not a key file.
func TestNotAnAwskeepKey(t *testing.T) {
	tg := swtpm(t)
	ctx := context.Background()
	const srkHandle = 0x81000001
	tg.direct(t, func(tp transport.TPM) {
		srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tp)
		if err != nil {
			t.Fatal(err)
		}
		defer tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tp)
		if _, err := (tpm2.EvictControl{Auth: tpm2.TPMRHOwner,
			ObjectHandle:     tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
			PersistentHandle: srkHandle}).Execute(tp); err != nil {
			t.Fatal(err)
		}
	})
	k := plugins.Key{URI: "tpm:handle=0x81000001" + tg.query}
	if _, err := tg.backend.HMAC(ctx, k, []byte("x")); !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "tpm-ecc") {
		t.Fatalf("HMAC with a storage key: %v, want ErrUnsupported", err)
	}
	if err := tg.backend.DeleteKey(ctx, k); !errors.Is(err, plugins.ErrPermissionDenied) {
		t.Fatalf("DeleteKey of a storage key: %v, want ErrPermissionDenied", err)
	}
	if err := tg.backend.ImportKey(ctx, k, material, plugins.ImportOptions{Overwrite: true}); !errors.Is(err, plugins.ErrKeyExists) {
		t.Fatalf("ImportKey over a storage key: %v, want ErrKeyExists", err)
	}
	d, err := tg.backend.DescribeKey(ctx, k)
	if err != nil || !d.Exists || d.Algorithm != "tpm-ecc" {
		t.Fatalf("DescribeKey of the storage key = %+v, %v; want it still there, tpm-ecc", d, err)
	}

	junk := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(junk, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := plugins.Key{URI: "tpm:file=" + junk + tg.query}
	if _, err := tg.backend.DescribeKey(ctx, f); !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Fatalf("DescribeKey of a text file: %v, want ErrInvalidKeyURI", err)
	}
	if err := tg.backend.DeleteKey(ctx, f); !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Fatalf("DeleteKey of a text file: %v, want ErrInvalidKeyURI", err)
	}
	if err := tg.backend.ImportKey(ctx, f, material, plugins.ImportOptions{Overwrite: true}); !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Fatalf("ImportKey over a text file: %v, want ErrInvalidKeyURI", err)
	}
	if data, err := os.ReadFile(junk); err != nil || string(data) != "my notes\n" {
		t.Fatalf("the text file changed: %q, %v", data, err)
	}
	tg.requireNothingLoaded(t)
}

// TestKeyFileFromAnotherTPM checks that a key file made by one TPM is ErrKeyNotFound on
// another: its private blob is bound to the first TPM's storage key.
func TestKeyFileFromAnotherTPM(t *testing.T) {
	a, b := swtpm(t), swtpm(t)
	k := a.fileKey(t, "pw")
	mustImport(t, a.backend, k, material)
	other := plugins.Key{URI: strings.Replace(k.URI, a.sw.Device, b.sw.Device, 1), PIN: k.PIN}
	_, err := b.backend.HMAC(context.Background(), other, []byte("x"))
	if !errors.Is(err, plugins.ErrKeyNotFound) || !strings.Contains(err.Error(), "made by another TPM") {
		t.Fatalf("HMAC on another TPM: %v, want ErrKeyNotFound", err)
	}
	b.requireNothingLoaded(t)
}

// TestLeakDetector checks the detector the other tests rely on: a transient object left
// loaded is listed.
func TestLeakDetector(t *testing.T) {
	tg := swtpm(t)
	tg.direct(t, func(tp transport.TPM) {
		srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tp)
		if err != nil {
			t.Fatal(err)
		}
		if h := tpmtest.Handles(t, tp, tpm2.TPMHTTransient); len(h) != 1 || h[0] != srk.ObjectHandle {
			t.Fatalf("transient handles %#x, want [%#x]", h, srk.ObjectHandle)
		}
		if _, err := (tpm2.FlushContext{FlushHandle: srk.ObjectHandle}).Execute(tp); err != nil {
			t.Fatal(err)
		}
	})
	tg.requireNothingLoaded(t)
}
