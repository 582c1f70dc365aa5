package scp03

import (
	"crypto/aes"
	"errors"
)

// ErrPadding reports a decrypted message whose ISO/IEC 9797-1 method 2 padding is wrong.
var ErrPadding = errors.New("scp03: bad message padding")

// Pad appends ISO/IEC 9797-1 padding method 2: one 0x80 byte, then zeros up to a multiple
// of the AES block size. It always adds at least one byte.
func Pad(msg []byte) []byte {
	n := len(msg) + 1
	n += (aes.BlockSize - n%aes.BlockSize) % aes.BlockSize
	out := make([]byte, n)
	copy(out, msg)
	out[len(msg)] = 0x80
	return out
}

// Unpad removes ISO/IEC 9797-1 padding method 2. The padding is at most one block long.
func Unpad(padded []byte) ([]byte, error) {
	if len(padded) == 0 || len(padded)%aes.BlockSize != 0 {
		return nil, ErrPadding
	}
	for i := len(padded) - 1; i >= 0 && i >= len(padded)-aes.BlockSize; i-- {
		switch padded[i] {
		case 0x00:
			continue
		case 0x80:
			return padded[:i], nil
		}
		return nil, ErrPadding
	}
	return nil, ErrPadding
}
