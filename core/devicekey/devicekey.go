// Package devicekey connects a key in a backend to the split signer: the device computes
// kDate = HMAC("AWS4"+secret, yyyymmdd) and nothing else.
package devicekey

import (
	"context"
	"fmt"

	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
)

// Deriver returns a sigv4.Deriver that asks b for HMAC(key, date). Errors keep the
// backend's sentinels (errors.Is(err, plugins.ErrPINIncorrect)).
func Deriver(b plugins.Backend, key plugins.Key) sigv4.Deriver {
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		mac, err := b.HMAC(ctx, key, []byte(date))
		if err != nil {
			return nil, err
		}
		if len(mac) != 32 {
			return nil, fmt.Errorf("device returned a %d-byte HMAC-SHA256: %w", len(mac), plugins.ErrDevice)
		}
		return mac, nil
	})
}

// Material is what awskeep stores in a device for an AWS secret access key: the SigV4 key
// derivation's first HMAC key, "AWS4" followed by the secret.
func Material(secretAccessKey string) []byte {
	return append([]byte("AWS4"), secretAccessKey...)
}
