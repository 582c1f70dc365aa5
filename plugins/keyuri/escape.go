package keyuri

import (
	"fmt"
	"strings"
)

const upperhex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	// RFC 3986 section 2.3.
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathChar is RFC 7512 pk11-pchar without pct-encoded.
func isPathChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte(":[]@!$'()*+,=", c) >= 0
}

// isLoosePathChar adds "/" to pk11-pchar, for the tpm and yubihsm schemes where a path
// attribute may be a file name.
func isLoosePathChar(c byte) bool { return isPathChar(c) || c == '/' }

// isQueryChar is RFC 7512 pk11-qchar without pct-encoded.
func isQueryChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte(":[]@!$'()*+,=/?|", c) >= 0
}

// unescape decodes percent-encodings and rejects characters the grammar does not allow raw.
func unescape(s string, allowed func(byte) bool) (string, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("malformed percent-encoding")
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case allowed(c):
			b = append(b, c)
		default:
			return "", fmt.Errorf("character %q must be percent-encoded", c)
		}
	}
	return string(b), nil
}

func escape(b *strings.Builder, s string, allowed func(byte) bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if allowed(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
}

// escapeAll percent-encodes every byte, as RFC 7512 section 2.3 recommends for id.
func escapeAll(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		b.WriteByte('%')
		b.WriteByte(upperhex[s[i]>>4])
		b.WriteByte(upperhex[s[i]&15])
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
