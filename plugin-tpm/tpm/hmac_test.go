package tpm_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"
)

// TestHMACKnownAnswer checks the TPM's kDate against the signing key of the AWS SigV4
// documentation's example (20150830/us-east-1/iam, the rest of the chain in software), and
// the TPM's HMAC against crypto/hmac for lengths around the 1024-byte TPM2_HMAC limit,
// where the backend switches to an HMAC sequence.
func TestHMACKnownAnswer(t *testing.T) {
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			for _, kind := range keyKinds {
				t.Run(kind.name, func(t *testing.T) {
					ctx := context.Background()
					k := kind.new(tg, t, "pw")
					mustImport(t, tg.backend, k, material)
					kDate, err := tg.backend.HMAC(ctx, k, []byte("20150830"))
					if err != nil {
						t.Fatal(err)
					}
					kSigning := softHMAC(softHMAC(softHMAC(kDate, []byte("us-east-1")), []byte("iam")), []byte("aws4_request"))
					const want = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
					if hex.EncodeToString(kSigning) != want {
						t.Fatalf("signing key = %x, want %s", kSigning, want)
					}
					for _, n := range []int{0, 1, 1023, 1024, 1025, 2048, 2049, 4096} {
						msg := bytes.Repeat([]byte{byte(n)}, n)
						got, err := tg.backend.HMAC(ctx, k, msg)
						if err != nil {
							t.Fatalf("HMAC of %d bytes: %v", n, err)
						}
						if want := softHMAC(material, msg); !bytes.Equal(got, want) {
							t.Fatalf("HMAC of %d bytes = %x, want %x", n, got, want)
						}
					}
				})
			}
		})
	}
}
