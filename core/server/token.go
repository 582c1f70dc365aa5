package server

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// tokenBytes is the entropy of every token this package makes: 256 bits.
const tokenBytes = 32

// Token returns a fresh random bearer token for Options.Token: 32 bytes from crypto/rand,
// base64url-encoded without padding (43 characters, safe in a header and an environment
// variable).
func Token() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("server: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
