package scp03

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Sizes fixed by the YubiHSM 2 secure channel.
const (
	// KeySize is the size of every static and session key: AES-128.
	KeySize = 16
	// ChallengeSize is the size of the host and card challenges of CREATE_SESSION.
	ChallengeSize = 8
	// CryptogramSize is the size of the card and host cryptograms.
	CryptogramSize = 8
	// MACSize is the size of the truncated C-MAC and R-MAC carried in frames.
	MACSize = 8
)

// Password derivation parameters of the YubiHSM 2 ("derived" authentication keys): the
// device's factory key 1 is the password "password" run through these.
const (
	// PasswordSalt is the PBKDF2 salt.
	PasswordSalt = "Yubico"
	// PasswordIterations is the PBKDF2 iteration count.
	PasswordIterations = 10000
)

// Derivation constants of SCP03 (GPC_SPE_014 section 4.1.5) as used by the YubiHSM 2.
const (
	ConstCardCryptogram byte = 0x00
	ConstHostCryptogram byte = 0x01
	ConstSENC           byte = 0x04
	ConstSMAC           byte = 0x06
	ConstSRMAC          byte = 0x07
)

// StaticKeys are the two long-lived AES-128 keys of an authentication key object.
type StaticKeys struct {
	// Enc is K-ENC, from which S-ENC is derived.
	Enc [KeySize]byte
	// MAC is K-MAC, from which S-MAC and S-RMAC are derived.
	MAC [KeySize]byte
}

// DeriveStaticKeys turns a password into an authentication key's K-ENC and K-MAC:
// PBKDF2-HMAC-SHA256(password, "Yubico", 10000 iterations, 32 bytes), K-ENC first.
func DeriveStaticKeys(password string) (StaticKeys, error) {
	b, err := pbkdf2.Key(sha256.New, password, []byte(PasswordSalt), PasswordIterations, 2*KeySize)
	if err != nil {
		// Only FIPS 140-only mode refuses (short passwords); say so without the password.
		return StaticKeys{}, fmt.Errorf("scp03: derive keys from password: %w", err)
	}
	var k StaticKeys
	copy(k.Enc[:], b[:KeySize])
	copy(k.MAC[:], b[KeySize:])
	clear(b)
	return k, nil
}

// Equal reports whether k and o are the same keys, in constant time.
func (k StaticKeys) Equal(o StaticKeys) bool {
	return subtle.ConstantTimeCompare(k.Enc[:], o.Enc[:])&subtle.ConstantTimeCompare(k.MAC[:], o.MAC[:]) == 1
}

// Context is the KDF context of one session: host challenge followed by card challenge.
type Context [2 * ChallengeSize]byte

// NewContext concatenates the host challenge (sent in CREATE_SESSION) and the card
// challenge (returned by the device).
func NewContext(host, card [ChallengeSize]byte) Context {
	var c Context
	copy(c[:ChallengeSize], host[:])
	copy(c[ChallengeSize:], card[:])
	return c
}

// SessionKeys are the three keys of one session.
type SessionKeys struct {
	// Enc is S-ENC: encrypts commands and responses and makes the IVs.
	Enc [KeySize]byte
	// MAC is S-MAC: authenticates commands (C-MAC) and computes the cryptograms.
	MAC [KeySize]byte
	// RMAC is S-RMAC: authenticates responses (R-MAC).
	RMAC [KeySize]byte
}

// DeriveSessionKeys derives S-ENC from K-ENC and S-MAC, S-RMAC from K-MAC, each as
// KDF(key, constant, host challenge || card challenge, 128 bits).
func DeriveSessionKeys(k StaticKeys, ctx Context) SessionKeys {
	var s SessionKeys
	copy(s.Enc[:], mustKDF(k.Enc[:], ConstSENC, ctx[:], 128))
	copy(s.MAC[:], mustKDF(k.MAC[:], ConstSMAC, ctx[:], 128))
	copy(s.RMAC[:], mustKDF(k.MAC[:], ConstSRMAC, ctx[:], 128))
	return s
}

// CardCryptogram is the device's proof that it holds the authentication key, returned by
// CREATE_SESSION: KDF(S-MAC, 0x00, context, 64 bits).
func (s SessionKeys) CardCryptogram(ctx Context) [CryptogramSize]byte {
	var c [CryptogramSize]byte
	copy(c[:], mustKDF(s.MAC[:], ConstCardCryptogram, ctx[:], 64))
	return c
}

// HostCryptogram is the host's proof, sent in AUTHENTICATE_SESSION: KDF(S-MAC, 0x01,
// context, 64 bits).
func (s SessionKeys) HostCryptogram(ctx Context) [CryptogramSize]byte {
	var c [CryptogramSize]byte
	copy(c[:], mustKDF(s.MAC[:], ConstHostCryptogram, ctx[:], 64))
	return c
}

// EqualCryptogram compares two cryptograms in constant time.
func EqualCryptogram(a, b [CryptogramSize]byte) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func mustKDF(key []byte, constant byte, context []byte, bits int) []byte {
	out, err := KDF(key, constant, context, bits)
	if err != nil {
		panic(err) // unreachable: keys are AES-128 and bits are 64 or 128
	}
	return out
}
