package keyuri

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/awskeep/awskeep/plugins"
)

// Schema is the attribute vocabulary of one key URI scheme: which attribute names it knows
// and what else a URI of the scheme must satisfy. A backend registers its schema with
// Register so that Parse validates its URIs (in the plugin, and in any host that links the
// backend's package) and the backend reads attributes without checking them again.
//
// pin-source and pin-value are always allowed (the host resolves them), as are vendor
// attributes whose name starts with "x-" (RFC 7512 section 2.3). Outside pkcs11 a path value
// may hold a raw "/", so that file names read naturally.
type Schema struct {
	// Path lists the path attributes the scheme knows (the ones that name the key). Nil
	// accepts any name; an empty, non-nil slice accepts none.
	Path []string
	// Query lists the query attributes the scheme knows (the ones that say how to reach the
	// key: an address, a device, a mount). Nil accepts any name; an empty, non-nil slice
	// accepts only pin-source and pin-value.
	Query []string
	// Required lists path attributes that every URI of the scheme must have, with a
	// non-empty value; Parse says "SCHEME: NAME= is required" otherwise.
	Required []string
	// Check, if set, validates a URI that passed the checks above: value syntax, attributes
	// that exclude each other. It returns a plain error saying what is wrong (no contract
	// sentinel); Parse returns it as the text of an error wrapping plugins.ErrInvalidKeyURI.
	// An error that already wraps ErrInvalidKeyURI is returned unchanged.
	Check func(*URI) error
	// CheckDevice, if set, replaces Check for URIs parsed with ParseDevice, which name a
	// device rather than one key. Without it, ParseDevice runs Check when the URI has every
	// Required attribute and skips it otherwise.
	CheckDevice func(*URI) error
}

// schema is a registered Schema with the characters its path values may hold unencoded.
type schema struct {
	Schema
	scheme   string
	pathChar func(byte) bool
}

var (
	schemasMu sync.RWMutex
	schemas   = map[string]schema{}
)

func init() {
	// RFC 7512 section 2.3; a path value percent-encodes "/".
	register("pkcs11", isPathChar, Schema{
		Path: []string{"token", "manufacturer", "serial", "model", "library-manufacturer",
			"library-description", "library-version", "object", "type", "id",
			"slot-description", "slot-manufacturer", "slot-id"},
		Query: []string{"module-name", "module-path"},
		Check: checkPKCS11,
	})
	// dir= names a directory of key files, for ListKeys only (ParseDevice).
	register("tpm", isLoosePathChar, Schema{
		Path:        []string{"handle", "file", "dir"},
		Query:       []string{"device", "pcrs"},
		Check:       checkTPM,
		CheckDevice: checkTPMDevice,
	})
	register("yubihsm", isLoosePathChar, Schema{
		Path:        []string{"object-id"},
		Query:       []string{"connector", "auth-key-id", "label", "domains"},
		Required:    []string{"object-id"},
		Check:       checkYubiHSM,
		CheckDevice: checkYubiHSM,
	})
}

// Register makes Parse validate URIs of scheme (lower case, RFC 3986 section 3.1) against
// s. A backend calls it once, from an init function or a package-level variable of the
// package that serves the scheme, so that the schema is in place before any URI is parsed:
//
//	func init() {
//		keyuri.Register("vault", keyuri.Schema{
//			Path:     []string{"key"},
//			Query:    []string{"addr", "mount", "namespace"},
//			Required: []string{"key"},
//		})
//	}
//
// Like database/sql.Register it panics when scheme is malformed or already registered
// (pkcs11, tpm and yubihsm are registered by this package): both are programming errors
// that every test of the backend would hit.
func Register(scheme string, s Schema) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("keyuri: Register of malformed scheme %q (want lower case, e.g. \"vault\")", scheme))
	}
	register(scheme, isLoosePathChar, s)
}

func register(scheme string, pathChar func(byte) bool, s Schema) {
	for _, names := range [][]string{s.Path, s.Query, s.Required} {
		for _, n := range names {
			if !validAttrName(n) {
				panic(fmt.Sprintf("keyuri: schema of %q names malformed attribute %q", scheme, n))
			}
		}
	}
	for _, n := range s.Required {
		if s.Path != nil && !slices.Contains(s.Path, n) {
			panic(fmt.Sprintf("keyuri: schema of %q requires %q but does not list it in Path", scheme, n))
		}
	}
	if s.Query != nil {
		s.Query = append([]string{PINSource, PINValue}, slices.DeleteFunc(slices.Clone(s.Query), func(n string) bool {
			return n == PINSource || n == PINValue
		})...)
	}
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if _, dup := schemas[scheme]; dup {
		panic(fmt.Sprintf("keyuri: Register called twice for scheme %q", scheme))
	}
	schemas[scheme] = schema{Schema: s, scheme: scheme, pathChar: pathChar}
}

// schemaFor returns the scheme's schema; schemes nobody registered accept any attribute.
func schemaFor(scheme string) schema {
	schemasMu.RLock()
	s, ok := schemas[scheme]
	schemasMu.RUnlock()
	if ok {
		return s
	}
	return schema{scheme: scheme, pathChar: isLoosePathChar}
}

// validate checks u against the schema; device says u names a device (ParseDevice), whose
// key-naming attributes may be missing.
func (s schema) validate(u *URI, device bool) error {
	if err := known(u.Path, s.Path, "path"); err != nil {
		return err
	}
	if err := known(u.Query, s.Query, "query"); err != nil {
		return err
	}
	if _, hasSource := u.QueryAttr(PINSource); hasSource {
		if _, hasValue := u.QueryAttr(PINValue); hasValue {
			return invalid("give pin-source or pin-value, not both")
		}
	}
	check := s.Check
	for _, name := range s.Required {
		if v, ok := u.PathAttr(name); !ok {
			if device {
				check = nil
				continue
			}
			return invalid(fmt.Sprintf("%s: %s= is required", s.scheme, name))
		} else if v == "" {
			return invalid(fmt.Sprintf("%s: %s= is empty", s.scheme, name))
		}
	}
	if device && s.CheckDevice != nil {
		check = s.CheckDevice
	}
	if check == nil {
		return nil
	}
	err := check(u)
	if err == nil || errors.Is(err, plugins.ErrInvalidKeyURI) {
		return err
	}
	return invalid(err.Error())
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
	if _, hasDir := u.PathAttr("dir"); hasDir {
		return invalid("tpm: dir= names a directory of key files (for awskeep keys list); a key is handle= or file=")
	}
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

// checkTPMDevice checks a TPM URI that names where keys are rather than one key: "tpm:"
// (the TPM's persistent handles), a handle= or file= (where that key is), or dir= (a
// directory of key files); at most one of them.
func checkTPMDevice(u *URI) error {
	n := 0
	for _, name := range []string{"handle", "file", "dir"} {
		v, ok := u.PathAttr(name)
		if !ok {
			continue
		}
		n++
		if v == "" {
			return invalid("tpm: " + name + "= is empty")
		}
		if name == "handle" {
			if _, err := PersistentHandle(v); err != nil {
				return err
			}
		}
	}
	if n > 1 {
		return invalid("tpm: give at most one of handle=, file= or dir=")
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

// checkYubiHSM checks key URIs (object-id= is there: Required) and device URIs (it may not be).
func checkYubiHSM(u *URI) error {
	if id, ok := u.PathAttr("object-id"); ok {
		if _, err := ObjectID(id); err != nil {
			return err
		}
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
