package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"unsafe"
)

// hmacBlock is SHA-256's block size, the size of HMAC's padded key (RFC 2104, section 2).
const hmacBlock = 64

// hmacInline is the longest message hmacSum hashes on the stack; a string to sign is about
// 140 bytes, a chunk's string to sign about 250.
const hmacInline = 320

// hmacSum returns HMAC-SHA256(key, data) as defined in RFC 2104:
// H((K' ^ opad) || H((K' ^ ipad) || data)), K' being the key padded to the block size (or
// its hash, when longer). It gives crypto/hmac's result (a test compares them) without
// allocating: the padded key lives in a stack buffer that is zeroed before it returns,
// where crypto/hmac would leave its key-dependent state on the heap for the collector.
func hmacSum(key []byte, data string) [sha256.Size]byte {
	var k [hmacBlock]byte
	if len(key) > hmacBlock {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
		clear(sum[:])
	} else {
		copy(k[:], key)
	}
	var buf [hmacBlock + hmacInline]byte
	for i := range k {
		buf[i] = k[i] ^ 0x36
	}
	var inner [sha256.Size]byte
	if len(data) <= hmacInline {
		n := copy(buf[hmacBlock:], data)
		inner = sha256.Sum256(buf[:hmacBlock+n])
	} else {
		h := sha256.New()
		h.Write(buf[:hmacBlock])
		h.Write(bytesOf(data))
		h.Sum(inner[:0])
	}
	for i := range k {
		buf[i] = k[i] ^ 0x5c
	}
	copy(buf[hmacBlock:], inner[:])
	out := sha256.Sum256(buf[:hmacBlock+sha256.Size])
	clear(k[:])
	clear(buf[:hmacBlock])
	return out
}

// hmacSHA256 is hmacSum as a slice, for the key chain whose links callers zero.
func hmacSHA256(key []byte, data string) []byte {
	sum := hmacSum(key, data)
	out := append([]byte(nil), sum[:]...)
	clear(sum[:])
	return out
}

// hexSum is the lower-case hex form of a SHA-256 sum with one allocation, the string.
func hexSum(sum [sha256.Size]byte) string {
	var b [2 * sha256.Size]byte
	hex.Encode(b[:], sum[:])
	return string(b[:])
}

// bytesOf is a read-only view of s, for hashing a string without copying it. The caller
// must not write to the slice or keep it.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
