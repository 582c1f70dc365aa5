package scp03

import (
	"encoding/binary"
	"fmt"
)

// KDF is the SP 800-108 counter-mode KDF with AES-CMAC as SCP03 defines it (GPC_SPE_014
// section 4.1.5): each block is CMAC(key, 11 zero bytes || constant || 0x00 || L (16 bits,
// big endian) || i (8 bits) || context), for i = 1, 2, ...; the output is the first bits/8
// bytes. key may be any AES key size; bits must be a positive multiple of 8.
func KDF(key []byte, constant byte, context []byte, bits int) ([]byte, error) {
	if bits <= 0 || bits%8 != 0 || bits > 0xffff {
		return nil, fmt.Errorf("scp03: kdf: output length %d bits is not a positive multiple of 8", bits)
	}
	h, err := NewCMAC(key)
	if err != nil {
		return nil, fmt.Errorf("scp03: kdf: %w", err)
	}
	n := bits / 8
	out := make([]byte, 0, n+h.Size())
	var label [16]byte
	label[11] = constant
	label[12] = 0x00 // separation indicator
	binary.BigEndian.PutUint16(label[13:15], uint16(bits))
	for i := 1; len(out) < n; i++ {
		if i > 0xff {
			return nil, fmt.Errorf("scp03: kdf: output length %d bits is too long", bits)
		}
		label[15] = byte(i)
		h.Reset()
		h.Write(label[:])
		h.Write(context)
		out = h.Sum(out)
	}
	return out[:n], nil
}
