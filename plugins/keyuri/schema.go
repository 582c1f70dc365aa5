package keyuri

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// schema is what a scheme allows. Schemes without one accept any attribute names.
type schema struct {
	pathChar func(byte) bool
	path     []string // known path attributes; nil: any
	query    []string // known query attributes; nil: any
	check    func(*URI) error
}

var schemas = map[string]schema{
	// RFC 7512 section 2.3.
	"pkcs11": {
		pathChar: isPathChar,
		path: []string{"token", "manufacturer", "serial", "model", "library-manufacturer",
			"library-description", "library-version", "object", "type", "id",
			"slot-description", "slot-manufacturer", "slot-id"},
		query: []string{PINSource, PINValue, "module-name", "module-path"},
		check: checkPKCS11,
	},
	"tpm": {
		pathChar: isLoosePathChar,
		path:     []string{"handle", "file"},
		query:    []string{PINSource, PINValue, "device", "pcrs"},
		check:    checkTPM,
	},
	"yubihsm": {
		pathChar: isLoosePathChar,
		path:     []string{"object-id"},
		query:    []string{PINSource, PINValue, "connector", "auth-key-id", "label", "domains"},
		check:    checkYubiHSM,
	},
}

func schemaFor(scheme string) schema {
	if s, ok := schemas[scheme]; ok {
		return s
	}
	return schema{pathChar: isLoosePathChar}
}

func (s schema) validate(u *URI) error {
	if err := known(u.Path, s.path, "path"); err != nil {
		return err
	}
	if err := known(u.Query, s.query, "query"); err != nil {
		return err
	}
	if _, hasSource := u.QueryAttr(PINSource); hasSource {
		if _, hasValue := u.QueryAttr(PINValue); hasValue {
			return invalid("give pin-source or pin-value, not both")
		}
	}
	if s.check != nil {
		return s.check(u)
	}
	return nil
}

// known rejects attributes outside names, except vendor attributes ("x-" prefix, RFC 7512
// section 2.3 "vendor-specific attributes").
func known(attrs []Attr, names []string, where string) error {
	if names == nil {
		return nil
	}
	for _, a := range attrs {
		if !slices.Contains(names, a.Name) && !strings.HasPrefix(a.Name, "x-") {
			return invalid(fmt.Sprintf("unknown %s attribute %q (known: %s)", where, a.Name, strings.Join(names, ", ")))
		}
	}
	return nil
}

func checkPKCS11(u *URI) error {
	if v, ok := u.PathAttr("type"); ok {
		if !slices.Contains([]string{"public", "private", "cert", "secret-key", "data"}, v) {
			return invalid(fmt.Sprintf("type %q is not one of public, private, cert, secret-key, data", printable(v)))
		}
	}
	if v, ok := u.PathAttr("slot-id"); ok {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil || v == "" {
			return invalid("slot-id must be a decimal number")
		}
	}
	if v, ok := u.PathAttr("library-version"); ok {
		major, minor, hasMinor := strings.Cut(v, ".")
		if !isDigits(major) || hasMinor && !isDigits(minor) {
			return invalid("library-version must be M or M.N")
		}
	}
	return nil
}

func checkTPM(u *URI) error {
	handle, hasHandle := u.PathAttr("handle")
	file, hasFile := u.PathAttr("file")
	switch {
	case hasHandle == hasFile:
		return invalid("tpm: give exactly one of handle= or file=")
	case hasHandle:
		if _, err := PersistentHandle(handle); err != nil {
			return err
		}
	case file == "":
		return invalid("tpm: file= is empty")
	}
	return nil
}

// PersistentHandle parses a TPM persistent handle such as 0x81010002. TPM 2.0 Part 2
// section 7.2: persistent objects live in 0x81000000 to 0x81FFFFFF.
func PersistentHandle(s string) (uint32, error) {
	h, err := strconv.ParseUint(s, 0, 32)
	if err != nil || h < 0x81000000 || h > 0x81FFFFFF {
		return 0, invalid(fmt.Sprintf("tpm: handle %q is not a persistent handle (0x81000000 to 0x81FFFFFF)", printable(s)))
	}
	return uint32(h), nil
}

func checkYubiHSM(u *URI) error {
	id, ok := u.PathAttr("object-id")
	if !ok {
		return invalid("yubihsm: object-id= is required")
	}
	if _, err := ObjectID(id); err != nil {
		return err
	}
	if v, ok := u.QueryAttr("auth-key-id"); ok {
		if _, err := ObjectID(v); err != nil {
			return invalid(fmt.Sprintf("yubihsm: auth-key-id %q is not an object id (1 to 0xffff)", printable(v)))
		}
	}
	return nil
}

// ObjectID parses a YubiHSM 2 object id, decimal or 0x-prefixed hexadecimal, 1 to 0xffff.
func ObjectID(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil || v == 0 {
		return 0, invalid(fmt.Sprintf("yubihsm: object id %q is not a number from 1 to 0xffff", printable(s)))
	}
	return uint16(v), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
