package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"hash"
)

// cmacRb is the constant R_128 of RFC 4493 section 2.3 (x^128 + x^7 + x^2 + x + 1).
const cmacRb = 0x87

// cmacHash computes AES-CMAC (RFC 4493) incrementally. The last block is held back until
// Sum, because CMAC treats it differently depending on whether it is complete.
type cmacHash struct {
	c      cipher.Block
	k1, k2 [aes.BlockSize]byte
	x      [aes.BlockSize]byte // chaining value
	buf    [aes.BlockSize]byte // pending bytes, up to a full block
	n      int                 // bytes in buf
}

// NewCMAC returns AES-CMAC (RFC 4493) keyed with key, which must be 16, 24 or 32 bytes.
// The returned hash.Hash has a 16-byte Size.
func NewCMAC(key []byte) (hash.Hash, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	h := &cmacHash{c: c}
	// RFC 4493 section 2.3, Generate_Subkey.
	var l [aes.BlockSize]byte
	c.Encrypt(l[:], l[:])
	h.k1 = doubleBlock(l)
	h.k2 = doubleBlock(h.k1)
	return h, nil
}

// CMAC returns AES-CMAC(key, msg) (RFC 4493).
func CMAC(key, msg []byte) ([aes.BlockSize]byte, error) {
	h, err := NewCMAC(key)
	if err != nil {
		return [aes.BlockSize]byte{}, err
	}
	h.Write(msg)
	var out [aes.BlockSize]byte
	h.Sum(out[:0])
	return out, nil
}

// doubleBlock multiplies b by x in GF(2^128), in constant time.
func doubleBlock(b [aes.BlockSize]byte) [aes.BlockSize]byte {
	var out [aes.BlockSize]byte
	msb := b[0] >> 7
	for i := 0; i < aes.BlockSize-1; i++ {
		out[i] = b[i]<<1 | b[i+1]>>7
	}
	out[aes.BlockSize-1] = b[aes.BlockSize-1]<<1 ^ byte(subtle.ConstantTimeByteEq(msb, 1))*cmacRb
	return out
}

func (h *cmacHash) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		if h.n == aes.BlockSize {
			// A full pending block is not the last one: fold it in.
			subtle.XORBytes(h.x[:], h.x[:], h.buf[:])
			h.c.Encrypt(h.x[:], h.x[:])
			h.n = 0
		}
		k := copy(h.buf[h.n:], p)
		h.n += k
		p = p[k:]
	}
	return written, nil
}

func (h *cmacHash) Sum(in []byte) []byte {
	// RFC 4493 section 2.4 steps 4 to 6, on copies so that Sum does not change the state.
	last := h.buf
	var key [aes.BlockSize]byte
	if h.n == aes.BlockSize {
		key = h.k1
	} else {
		key = h.k2
		last[h.n] = 0x80
		clear(last[h.n+1:])
	}
	x := h.x
	subtle.XORBytes(last[:], last[:], key[:])
	subtle.XORBytes(x[:], x[:], last[:])
	h.c.Encrypt(x[:], x[:])
	return append(in, x[:]...)
}

func (h *cmacHash) Reset() {
	h.x = [aes.BlockSize]byte{}
	h.buf = [aes.BlockSize]byte{}
	h.n = 0
}

func (h *cmacHash) Size() int      { return aes.BlockSize }
func (h *cmacHash) BlockSize() int { return aes.BlockSize }
