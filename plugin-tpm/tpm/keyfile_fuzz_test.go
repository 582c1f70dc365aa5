package tpm_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	keyfile "github.com/foxboron/go-tpm-keyfiles"
	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugin-tpm/pcrs"
	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugins"
)

// seedKeyFile builds a key file of the shape ImportKey writes, with a made-up private blob
// (only the TPM could tell).
func seedKeyFile(policy bool) []byte {
	pub := tpm2.TPMTPublic{
		Type: tpm2.TPMAlgKeyedHash, NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, UserWithAuth: !policy, SignEncrypt: true},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{
				Scheme:  tpm2.TPMAlgHMAC,
				Details: tpm2.NewTPMUSchemeKeyedHash(tpm2.TPMAlgHMAC, &tpm2.TPMSSchemeHMAC{HashAlg: tpm2.TPMAlgSHA256}),
			},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgKeyedHash, &tpm2.TPM2BDigest{Buffer: bytes.Repeat([]byte{7}, 32)}),
	}
	var opts []keyfile.TPMKeyOption
	if policy {
		sel, _ := pcrs.Parse("sha256:7,23")
		pcrPolicy := append(tpm2.Marshal(tpm2.TPM2BDigest{Buffer: make([]byte, 32)}), tpm2.Marshal(sel.TPML())...)
		opts = append(opts, keyfile.WithPolicy([]*keyfile.TPMPolicy{
			{CommandCode: int(tpm2.TPMCCPolicyPCR), CommandPolicy: pcrPolicy},
			{CommandCode: int(tpm2.TPMCCPolicyAuthValue)},
		}))
	}
	tk := keyfile.NewTPMKey(keyfile.OIDLoadableKey, tpm2.New2B(pub), tpm2.TPM2BPrivate{Buffer: bytes.Repeat([]byte{9}, 80)}, opts...)
	return tk.Bytes()
}

// FuzzKeyFile feeds arbitrary key files to DescribeKey, which parses them without a TPM:
// the DER of a TSS2 key, TPM public areas and policies. The input is the DER, wrapped in
// PEM here so that the fuzzer works on the structure rather than on base64. DescribeKey
// must not panic, and must either describe the key or fail with one of the contract's
// errors.
func FuzzKeyFile(f *testing.F) {
	for _, policy := range []bool{false, true} {
		block, _ := pem.Decode(seedKeyFile(policy))
		f.Add(block.Bytes)
	}
	f.Add([]byte{0x30, 0})
	b := tpm.New()
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, der []byte) {
		path := filepath.Join(dir, "k.pem")
		data := pem.EncodeToMemory(&pem.Block{Type: "TSS2 PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := b.DescribeKey(context.Background(), plugins.Key{URI: "tpm:file=" + path})
		if err != nil {
			if !errors.Is(err, plugins.ErrInvalidKeyURI) && !errors.Is(err, plugins.ErrUnsupported) {
				t.Fatalf("DescribeKey: %v: not a contract error for a bad file", err)
			}
			return
		}
		if !d.Exists || d.Attributes["file"] != path {
			t.Fatalf("DescribeKey = %+v", d)
		}
	})
}

func TestSeedKeyFiles(t *testing.T) {
	dir := t.TempDir()
	for _, policy := range []bool{false, true} {
		path := filepath.Join(dir, "k.pem")
		if err := os.WriteFile(path, seedKeyFile(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := tpm.New().DescribeKey(context.Background(), plugins.Key{URI: "tpm:file=" + path})
		if err != nil || !d.Exists || d.Algorithm != plugins.AlgorithmHMACSHA256 || d.Extractable {
			t.Fatalf("DescribeKey = %+v, %v", d, err)
		}
		if policy && (d.Attributes["auth"] != "pcr-policy" || d.Attributes["pcrs"] != "sha256:7,23") {
			t.Fatalf("policy key attributes %v", d.Attributes)
		}
	}
}
