package sigv4

import "context"

// Deriver computes the first, secret-dependent step of the SigV4 key derivation:
// kDate = HMAC-SHA256("AWS4"+secret, date), where date is the signing date as yyyymmdd in
// UTC. It must return the 32-byte MAC.
//
// An awskeep backend implements it with one device HMAC over the 8-byte date; errors it
// returns (for example the plugins package's ErrPINIncorrect) reach the caller of
// [Signer.SignHTTP] wrapped, so errors.Is keeps working.
type Deriver interface {
	DeriveDateKey(ctx context.Context, date string) ([]byte, error)
}

// DeriverFunc adapts a function to the [Deriver] interface.
type DeriverFunc func(ctx context.Context, date string) ([]byte, error)

// DeriveDateKey calls f(ctx, date).
func (f DeriverFunc) DeriveDateKey(ctx context.Context, date string) ([]byte, error) {
	return f(ctx, date)
}

// SoftwareDeriver returns a [Deriver] that computes kDate in software from secretAccessKey.
//
// It keeps "AWS4"+secret in process memory for its whole life, which is exactly what awskeep
// exists to avoid: use it for tests, benchmarks and for comparing a device's answers, not to
// sign with production keys.
func SoftwareDeriver(secretAccessKey string) Deriver {
	return softwareDeriver{key: []byte("AWS4" + secretAccessKey)}
}

type softwareDeriver struct {
	key []byte
}

// DeriveDateKey returns HMAC-SHA256("AWS4"+secret, date).
func (d softwareDeriver) DeriveDateKey(_ context.Context, date string) ([]byte, error) {
	return hmacSHA256(d.key, date), nil
}
