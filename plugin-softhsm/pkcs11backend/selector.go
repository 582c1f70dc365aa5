package pkcs11backend

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// selector is what a pkcs11: URI asks for: a module, a token in it, and a key on the token.
type selector struct {
	modulePath string
	token      tokenFilter
	label      string // CKA_LABEL, from object=
	hasLabel   bool
	id         []byte // CKA_ID, from id=
	hasID      bool
}

// tokenFilter holds the RFC 7512 section 2.3 attributes that select a slot and token. Empty
// fields match anything.
type tokenFilter struct {
	label, serial, manufacturer, model string // CK_TOKEN_INFO
	slotID                             *uint
	slotDescription, slotManufacturer  string // CK_SLOT_INFO
	libManufacturer, libDescription    string // CK_INFO
	libVersion                         string // "M" or "M.N"
}

// parseSelector reads a pkcs11: URI. Errors wrap plugins.ErrInvalidKeyURI.
func parseSelector(uri, defaultModule string) (*selector, error) {
	u, err := keyuri.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: %w", err)
	}
	s, err := selectorOf(u, defaultModule)
	if err != nil {
		return nil, err
	}
	if !s.hasLabel && !s.hasID {
		return nil, fmt.Errorf("pkcs11: the URI names no key: add object=LABEL or id=%%01: %w", plugins.ErrInvalidKeyURI)
	}
	return s, nil
}

// parseTokenSelector reads a pkcs11: URI that names a token (ListKeys): object= and id= may
// be left out and are ignored. Errors wrap plugins.ErrInvalidKeyURI.
func parseTokenSelector(uri, defaultModule string) (*selector, *keyuri.URI, error) {
	u, err := keyuri.ParseDevice(uri)
	if err != nil {
		return nil, nil, fmt.Errorf("pkcs11: %w", err)
	}
	s, err := selectorOf(u, defaultModule)
	if err != nil {
		return nil, nil, err
	}
	s.label, s.hasLabel, s.id, s.hasID = "", false, nil, false
	return s, u, nil
}

// selectorOf reads the module, token and key attributes of u.
func selectorOf(u *keyuri.URI, defaultModule string) (*selector, error) {
	if u.Scheme != Scheme {
		return nil, fmt.Errorf("pkcs11: URI scheme %q is not pkcs11: %w", u.Scheme, plugins.ErrInvalidKeyURI)
	}
	s := &selector{modulePath: defaultModule}
	if p, ok := u.QueryAttr("module-path"); ok {
		if p == "" {
			return nil, fmt.Errorf("pkcs11: module-path is empty: %w", plugins.ErrInvalidKeyURI)
		}
		s.modulePath = p
	} else if name, ok := u.QueryAttr("module-name"); ok {
		// RFC 7512 leaves the search for module-name to the platform; awskeep does not
		// guess which of several installed libraries is meant.
		return nil, fmt.Errorf("pkcs11: module-name=%s is not supported; give the library file with module-path=: %w",
			name, plugins.ErrInvalidKeyURI)
	}
	if !filepath.IsAbs(s.modulePath) {
		// dlopen would search LD_LIBRARY_PATH and the system directories for a bare name,
		// so the library loaded would depend on the environment.
		return nil, fmt.Errorf("pkcs11: module-path %q is not an absolute path: %w", s.modulePath, plugins.ErrInvalidKeyURI)
	}
	if t, ok := u.PathAttr("type"); ok && t != "secret-key" {
		return nil, fmt.Errorf("pkcs11: type=%s: awskeep keys are secret keys (type=secret-key or no type): %w", t, plugins.ErrInvalidKeyURI)
	}
	s.label, s.hasLabel = u.PathAttr("object")
	if s.hasLabel && s.label == "" {
		return nil, fmt.Errorf("pkcs11: object= is empty: %w", plugins.ErrInvalidKeyURI)
	}
	if id, ok := u.PathAttr("id"); ok {
		if id == "" {
			return nil, fmt.Errorf("pkcs11: id= is empty: %w", plugins.ErrInvalidKeyURI)
		}
		s.id, s.hasID = []byte(id), true
	}
	f := &s.token
	f.label, _ = u.PathAttr("token")
	f.serial, _ = u.PathAttr("serial")
	f.manufacturer, _ = u.PathAttr("manufacturer")
	f.model, _ = u.PathAttr("model")
	f.slotDescription, _ = u.PathAttr("slot-description")
	f.slotManufacturer, _ = u.PathAttr("slot-manufacturer")
	f.libManufacturer, _ = u.PathAttr("library-manufacturer")
	f.libDescription, _ = u.PathAttr("library-description")
	f.libVersion, _ = u.PathAttr("library-version")
	if v, ok := u.PathAttr("slot-id"); ok {
		n, err := strconv.ParseUint(v, 10, 0)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: slot-id %q is not a decimal number: %w", v, plugins.ErrInvalidKeyURI)
		}
		id := uint(n)
		f.slotID = &id
	}
	return s, nil
}

// keyName describes the key for messages: object "prod", id 01 or both.
func (s *selector) keyName() string {
	switch {
	case s.hasLabel && s.hasID:
		return fmt.Sprintf("key object %q id %s", s.label, hexID(s.id))
	case s.hasLabel:
		return fmt.Sprintf("key object %q", s.label)
	case !s.hasID:
		return "keys" // a token selector (ListKeys)
	default:
		return fmt.Sprintf("key id %s", hexID(s.id))
	}
}

// key identifies the filter in the module's cache of findToken answers.
func (f *tokenFilter) key() string {
	slot := "-"
	if f.slotID != nil {
		slot = strconv.FormatUint(uint64(*f.slotID), 10)
	}
	return strings.Join([]string{f.label, f.serial, f.manufacturer, f.model, slot, f.slotDescription,
		f.slotManufacturer, f.libManufacturer, f.libDescription, f.libVersion}, "\x00")
}

// String describes the filter for "no token with ..." messages.
func (f *tokenFilter) String() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", name, v))
		}
	}
	add("label", f.label)
	add("serial", f.serial)
	add("manufacturer", f.manufacturer)
	add("model", f.model)
	if f.slotID != nil {
		parts = append(parts, fmt.Sprintf("slot-id %d", *f.slotID))
	}
	add("slot-description", f.slotDescription)
	add("slot-manufacturer", f.slotManufacturer)
	add("library-manufacturer", f.libManufacturer)
	add("library-description", f.libDescription)
	add("library-version", f.libVersion)
	if len(parts) == 0 {
		return "any attributes"
	}
	return strings.Join(parts, " and ")
}

// hexID prints a CKA_ID for messages and DescribeKey, lower-case hex as pkcs11-tool shows it.
func hexID(id []byte) string {
	if len(id) == 0 {
		return "(none)"
	}
	return hex.EncodeToString(id)
}

// padded trims the blank (and, from some modules, NUL) padding of PKCS#11 fixed-size
// strings (PKCS#11 v2.40 section 3.2: CK_UTF8CHAR arrays are padded with blanks).
func padded(s string) string { return strings.TrimRight(s, " \x00") }
