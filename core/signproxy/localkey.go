package signproxy

import (
	"crypto/rand"
	"fmt"
)

// LocalKey is the key pair the proxy gives its clients. It authenticates a client to this
// proxy only; AWS never sees it.
type LocalKey struct {
	AccessKeyID     string
	SecretAccessKey string
}

// NewLocalKey returns a random pair: an access key ID of 20 upper-case letters and digits
// starting "AKIA" (some clients check the shape) and a 40-character secret, 160 and 240
// random bits.
func NewLocalKey() (LocalKey, error) {
	id, err := randomText(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	if err != nil {
		return LocalKey{}, err
	}
	secret, err := randomText(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	if err != nil {
		return LocalKey{}, err
	}
	return LocalKey{AccessKeyID: "AKIA" + id, SecretAccessKey: secret}, nil
}

// randomText draws n characters from alphabet, whose length must divide 256.
func randomText(n int, alphabet string) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signproxy: random key: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// String shows the access key ID only.
func (k LocalKey) String() string { return "local key " + k.AccessKeyID }

// GoString keeps %#v from printing the secret.
func (k LocalKey) GoString() string { return k.String() }
