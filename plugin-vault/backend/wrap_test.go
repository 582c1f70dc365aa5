package backend

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/tink-crypto/tink-go/v2/kwp/subtle"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refKWP is AES Key Wrap with Padding written from RFC 5649 section 4.1 for these tests
// alone: tink's KWP takes only 128- and 256-bit KEKs, and the RFC's examples use a 192-bit
// one. The RFC vectors pin refKWP; refKWP then pins tink for AES-256 and 44-byte keys.
func refKWP(t *testing.T, kek, p []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	var a [8]byte
	copy(a[:], []byte{0xa6, 0x59, 0x59, 0xa6})
	binary.BigEndian.PutUint32(a[4:], uint32(len(p)))
	padded := append(bytes.Clone(p), make([]byte, (8-len(p)%8)%8)...)
	n := len(padded) / 8
	buf := make([]byte, 16)
	if n == 1 {
		copy(buf, a[:])
		copy(buf[8:], padded)
		block.Encrypt(buf, buf)
		return buf
	}
	r := padded
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(buf, a[:])
			copy(buf[8:], r[(i-1)*8:i*8])
			block.Encrypt(buf, buf)
			copy(a[:], buf[:8])
			tv := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(a[:])^tv)
			copy(r[(i-1)*8:i*8], buf[8:])
		}
	}
	return append(a[:], r...)
}

// TestKWPRFC5649 checks the AES-KWP that wrapForImport uses: refKWP against RFC 5649
// section 6, "Padded Key Wrap Examples", then tink's KWP against refKWP with AES-256 KEKs
// (what transit takes) and 44-byte keys ("AWS4" and a 40-character secret).
func TestKWPRFC5649(t *testing.T) {
	kek := unhex(t, "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8")
	for _, v := range []struct{ key, wrapped string }{
		{"c37b7e6492584340 bed1220780894115 5068f738", "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f"},
	} {
		if got, want := refKWP(t, kek, unhex(t, v.key)), unhex(t, v.wrapped); !bytes.Equal(got, want) {
			t.Fatalf("reference KWP of %s = %x, want %x (RFC 5649 section 6)", v.key, got, want)
		}
	}
	for range 16 {
		kek := make([]byte, 32)
		material := make([]byte, 44)
		rand.Read(kek)
		rand.Read(material)
		kwp, err := subtle.NewKWP(kek)
		if err != nil {
			t.Fatal(err)
		}
		got, err := kwp.Wrap(material)
		if err != nil {
			t.Fatal(err)
		}
		if want := refKWP(t, kek, material); !bytes.Equal(got, want) {
			t.Fatalf("tink KWP = %x, RFC 5649 reference = %x", got, want)
		}
		if back, err := kwp.Unwrap(got); err != nil || !bytes.Equal(back, material) {
			t.Fatalf("tink KWP unwrap: %v", err)
		}
	}
}

// TestWrapForImport unwraps what wrapForImport produced the way transit does
// (decryptImportedKey in Vault's builtin/logical/transit/path_import.go).
func TestWrapForImport(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := parseWrappingKey(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	if err != nil {
		t.Fatal(err)
	}
	material := []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	ct, err := wrapForImport(pub, material)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	n := priv.Size()
	eph, err := rsa.DecryptOAEP(sha256.New(), nil, priv, raw[:n], nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(eph) != 32 {
		t.Fatalf("ephemeral key of %d bytes, want 32 (AES-256)", len(eph))
	}
	kwp, err := subtle.NewKWP(eph)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kwp.Unwrap(raw[n:])
	if err != nil || !bytes.Equal(got, material) {
		t.Fatalf("unwrap = %q, %v", got, err)
	}
	if strings.Contains(ct, base64.StdEncoding.EncodeToString(material)) {
		t.Fatal("the ciphertext holds the material in clear")
	}
}

func TestParseWrappingKeyRefuses(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	for name, in := range map[string]string{
		"empty":    "",
		"not PEM":  "hello",
		"garbage":  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})),
		"RSA-1024": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseWrappingKey(in); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
