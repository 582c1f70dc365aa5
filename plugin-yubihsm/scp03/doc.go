// Package scp03 is the cryptography of the YubiHSM 2 secure channel, a variant of
// GlobalPlatform SCP03 (GPC_SPE_014) as documented for the YubiHSM 2 commands CREATE_SESSION,
// AUTHENTICATE_SESSION and SESSION_MESSAGE.
//
// It holds the primitives and nothing else: AES-CMAC (RFC 4493), the password-to-key
// derivation (PBKDF2-HMAC-SHA256, salt "Yubico", 10000 iterations), the SP 800-108
// counter-mode KDF with AES-CMAC that yields session keys and cryptograms, ISO/IEC 9797-1
// padding method 2, and [Channel], the per-session state that wraps and unwraps
// SESSION_MESSAGE frames from either end. The client (package yubihsm) and the device
// simulator (package sim) both build on it; both are tested against published vectors so
// that a mistake here cannot hide behind their agreement.
package scp03
