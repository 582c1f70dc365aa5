package backend

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/kwp/subtle"
)

// minWrappingKeyBits refuses a wrapping key too weak to carry an AWS secret; transit's own
// is RSA-4096.
const minWrappingKeyBits = 2048

// parseWrappingKey reads the PEM public key of GET MOUNT/wrapping_key.
func parseWrappingKey(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("wrapping key: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("wrapping key: %w", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("wrapping key: %T, want RSA", pub)
	}
	if rsaPub.N.BitLen() < minWrappingKeyBits {
		return nil, fmt.Errorf("wrapping key: RSA-%d, want at least %d bits", rsaPub.N.BitLen(), minWrappingKeyBits)
	}
	return rsaPub, nil
}

// wrapForImport returns the ciphertext transit's import endpoint takes (Vault docs, "Bring
// your own key"): an ephemeral AES-256 key encrypted with RSA-OAEP (SHA-256, empty label)
// under the wrapping key, followed by material wrapped under the ephemeral key with AES Key
// Wrap with Padding (RFC 5649), all base64. The ephemeral key is zeroed before returning.
//
// AES-KWP comes from tink-go's kwp/subtle, the implementation Vault itself unwraps with
// (Vault imports the older github.com/google/tink path of the same code).
func wrapForImport(pub *rsa.PublicKey, material []byte) (string, error) {
	ephemeral := make([]byte, 32)
	defer clear(ephemeral)
	if _, err := rand.Read(ephemeral); err != nil {
		return "", err
	}
	encKey, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, ephemeral, nil)
	if err != nil {
		return "", fmt.Errorf("wrap ephemeral key: %w", err)
	}
	kwp, err := subtle.NewKWP(ephemeral)
	if err != nil {
		return "", fmt.Errorf("wrap key material: %w", err)
	}
	wrapped, err := kwp.Wrap(material)
	if err != nil {
		// tink's message names only sizes, never the material.
		return "", fmt.Errorf("wrap key material: %w", err)
	}
	return base64.StdEncoding.EncodeToString(append(encKey, wrapped...)), nil
}
