package keyuri

import (
	"fmt"
	"slices"
	"strings"

	"github.com/awskeep/awskeep/plugins"
)

// Attribute names shared by every scheme.
const (
	// PINSource names where the PIN comes from (RFC 7512 section 2.3: "pin-source"), e.g.
	// file:/run/awskeep/pin or a plain path.
	PINSource = "pin-source"
	// PINValue carries the PIN itself (RFC 7512 section 2.3: "pin-value"). Accepted but
	// discouraged: URIs end up in shell history and config files.
	PINValue = "pin-value"
)

// Attr is one name=value attribute, with the value percent-decoded. A value may hold any
// bytes (RFC 7512's id attribute is binary).
type Attr struct {
	Name  string
	Value string
}

// URI is a parsed key URI. Attribute order is kept, so that String round-trips.
type URI struct {
	// Scheme is the lower-case scheme, e.g. "pkcs11".
	Scheme string
	// Path holds the path attributes, which name the key.
	Path []Attr
	// Query holds the query attributes, which say how to reach it (module, device, PIN).
	Query []Attr
}

// Parse parses a key URI strictly: unknown attributes of the known schemes, repeated
// attributes, characters that must be percent-encoded, and malformed percent-encodings are
// errors wrapping plugins.ErrInvalidKeyURI. The error text never holds a pin-value.
func Parse(s string) (*URI, error) { return parse(s, false) }

// ParseDevice parses a URI that names a device, or a place on it, rather than one key: the
// argument of ListKeys and AuditLog (awskeep keys list, awskeep audit). It is Parse, except
// that the path attributes that name a key may be left out ("pkcs11:token=aws",
// "yubihsm:?connector=http://127.0.0.1:12345", "tpm:", "tpm:dir=/etc/awskeep"); a key's
// own URI parses too. The scheme's Schema.CheckDevice, if any, checks the rest.
func ParseDevice(s string) (*URI, error) { return parse(s, true) }

// ParseDeviceFor is ParseDevice that requires the scheme to be scheme, as ParseFor.
func ParseDeviceFor(scheme, s string) (*URI, error) {
	u, err := ParseDevice(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != scheme {
		return nil, invalid(fmt.Sprintf("scheme %q is not served here (this backend serves %s:)", u.Scheme, scheme))
	}
	return u, nil
}

func parse(s string, device bool) (*URI, error) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return nil, invalid("missing scheme (expected e.g. pkcs11:, tpm: or yubihsm:)")
	}
	scheme := strings.ToLower(s[:colon])
	if !validScheme(scheme) {
		return nil, invalid("malformed scheme")
	}
	rest := s[colon+1:]
	pathPart, queryPart, hasQuery := strings.Cut(rest, "?")
	if strings.ContainsRune(pathPart, '#') || strings.ContainsRune(queryPart, '#') {
		return nil, invalid("fragments (#) are not allowed")
	}
	sc := schemaFor(scheme)
	u := &URI{Scheme: scheme}
	var err error
	if u.Path, err = parseAttrs(pathPart, ";", sc.pathChar, "path"); err != nil {
		return nil, err
	}
	if hasQuery {
		if u.Query, err = parseAttrs(queryPart, "&", isQueryChar, "query"); err != nil {
			return nil, err
		}
	}
	if err := sc.validate(u, device); err != nil {
		return nil, err
	}
	return u, nil
}

// ParseFor parses s as Parse does and requires its scheme to be scheme (lower case): what a
// backend that serves one scheme calls first in each method. A URI of another scheme is an
// error wrapping plugins.ErrInvalidKeyURI that names both schemes.
func ParseFor(scheme, s string) (*URI, error) {
	u, err := Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != scheme {
		return nil, invalid(fmt.Sprintf("scheme %q is not served here (this backend serves %s:)", u.Scheme, scheme))
	}
	return u, nil
}

func parseAttrs(s, sep string, allowed func(byte) bool, where string) ([]Attr, error) {
	if s == "" {
		return nil, nil
	}
	var attrs []Attr
	for _, part := range strings.Split(s, sep) {
		name, raw, ok := strings.Cut(part, "=")
		if !ok {
			return nil, invalid(fmt.Sprintf("%s attribute %q has no value (want name=value)", where, printable(name)))
		}
		if !validAttrName(name) {
			return nil, invalid(fmt.Sprintf("malformed %s attribute name %q", where, printable(name)))
		}
		value, err := unescape(raw, allowed)
		if err != nil {
			if name == PINValue {
				return nil, invalid(fmt.Sprintf("%s attribute %s: malformed value", where, name))
			}
			return nil, invalid(fmt.Sprintf("%s attribute %s: %v", where, name, err))
		}
		if slices.ContainsFunc(attrs, func(a Attr) bool { return a.Name == name }) {
			return nil, invalid(fmt.Sprintf("%s attribute %s appears more than once", where, name))
		}
		attrs = append(attrs, Attr{Name: name, Value: value})
	}
	return attrs, nil
}

// PathAttr returns the value of the named path attribute.
func (u *URI) PathAttr(name string) (string, bool) { return lookup(u.Path, name) }

// QueryAttr returns the value of the named query attribute.
func (u *URI) QueryAttr(name string) (string, bool) { return lookup(u.Query, name) }

func lookup(attrs []Attr, name string) (string, bool) {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// WithoutSecrets returns a copy of u without pin-value and pin-source: what the host sends
// to a backend and what names a key in caches and logs.
func (u *URI) WithoutSecrets() *URI {
	c := u.Clone()
	c.Query = slices.DeleteFunc(c.Query, func(a Attr) bool { return a.Name == PINValue || a.Name == PINSource })
	return c
}

// Clone returns a deep copy of u.
func (u *URI) Clone() *URI {
	return &URI{Scheme: u.Scheme, Path: slices.Clone(u.Path), Query: slices.Clone(u.Query)}
}

// String prints u in canonical form: attributes in their order, values percent-encoded
// where the grammar requires it and binary id values fully encoded. A pin-value is never
// printed; Parse(u.String()) equals u without its pin-value.
func (u *URI) String() string {
	sc := schemaFor(u.Scheme)
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	for i, a := range u.Path {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		if u.Scheme == "pkcs11" && a.Name == "id" {
			escapeAll(&b, a.Value)
		} else {
			escape(&b, a.Value, sc.pathChar)
		}
	}
	first := true
	for _, a := range u.Query {
		if a.Name == PINValue {
			continue
		}
		if first {
			b.WriteByte('?')
			first = false
		} else {
			b.WriteByte('&')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		escape(&b, a.Value, isQueryChar)
	}
	return b.String()
}

func invalid(why string) error {
	return fmt.Errorf("%w: %s", plugins.ErrInvalidKeyURI, why)
}

// printable shortens and sanitises user input quoted in an error.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func validScheme(s string) bool {
	// RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

func validAttrName(s string) bool {
	// RFC 7512 pk11-v-attr-nm-char: ALPHA / DIGIT / "-" / "_"
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
