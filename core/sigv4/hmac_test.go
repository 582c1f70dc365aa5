package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestHMACSumMatchesCryptoHMAC: hmacSum is crypto/hmac's HMAC-SHA256 for keys shorter than,
// equal to and longer than the block, and messages on both sides of the inline limit.
func TestHMACSumMatchesCryptoHMAC(t *testing.T) {
	for _, keyLen := range []int{0, 1, 32, hmacBlock - 1, hmacBlock, hmacBlock + 1, 200} {
		for _, dataLen := range []int{0, 8, 140, hmacInline - 1, hmacInline, hmacInline + 1, 4096} {
			key := bytes.Repeat([]byte{byte(keyLen + 7)}, keyLen)
			data := strings.Repeat(string(rune('a'+dataLen%26)), dataLen)
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(data))
			want := mac.Sum(nil)
			got := hmacSum(key, data)
			if !bytes.Equal(got[:], want) {
				t.Errorf("key %d bytes, data %d bytes: hmacSum = %x, crypto/hmac = %x", keyLen, dataLen, got, want)
			}
			if h := hexSum(got); h != hex.EncodeToString(want) {
				t.Errorf("hexSum = %s, want %x", h, want)
			}
		}
	}
}

// FuzzHMACSum compares hmacSum with crypto/hmac on arbitrary keys and messages.
func FuzzHMACSum(f *testing.F) {
	f.Add([]byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "20150830")
	f.Add(bytes.Repeat([]byte{1}, 100), strings.Repeat("x", 400))
	f.Fuzz(func(t *testing.T, key []byte, data string) {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(data))
		if got := hmacSum(key, data); !hmac.Equal(got[:], mac.Sum(nil)) {
			t.Fatalf("hmacSum(%x, %q) differs from crypto/hmac", key, data)
		}
	})
}

func TestHMACSumDoesNotAllocate(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	data := strings.Repeat("s", 140)
	if n := testing.AllocsPerRun(100, func() { _ = hmacSum(key, data) }); n != 0 {
		t.Fatalf("hmacSum allocates %v times per call, want 0", n)
	}
}
