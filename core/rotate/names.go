package rotate

import (
	"fmt"
	"math/big"
	"path"
	"strconv"
	"strings"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

// maxCandidates bounds how many names Run tries for the new object before giving up: a
// device where the next 16 names are taken is one the user should look at.
const maxCandidates = 16

// successor names the object that follows u's for each scheme: the next name to try for
// the new key. Only the path (the object's identity) changes; the query (module, connector,
// PIN source) is kept, so the new key is found exactly as the old one was.
var successor = map[string]func(*keyuri.URI) (*keyuri.URI, error){
	"pkcs11":  nextPKCS11,
	"tpm":     nextTPM,
	"yubihsm": nextYubiHSM,
	"vault":   nextVault,
	"tink":    nextTink,
}

// Candidates returns up to n URIs for the new key, in the order Run tries them (the first
// that the device does not hold is taken). It fails for a scheme whose objects rotate
// does not know how to name.
func Candidates(u *keyuri.URI, n int) ([]*keyuri.URI, error) {
	next, ok := successor[u.Scheme]
	if !ok {
		return nil, fmt.Errorf("rotate: keys of scheme %s cannot be rotated yet (pkcs11, tpm, yubihsm, vault and tink can): rotate by hand (docs/rotate.md)", u.Scheme)
	}
	var out []*keyuri.URI
	cur := u
	for range n {
		nu, err := next(cur)
		if err != nil {
			return nil, err
		}
		out = append(out, nu)
		cur = nu
	}
	return out, nil
}

// nextName is the label after name: prod -> prod-r2 -> prod-r3 ("r" for rotation).
func nextName(name string) string {
	if i := strings.LastIndex(name, "-r"); i >= 0 {
		if n, err := strconv.Atoi(name[i+2:]); err == nil && n >= 2 && strconv.Itoa(n) == name[i+2:] {
			return name[:i] + "-r" + strconv.Itoa(n+1)
		}
	}
	return name + "-r2"
}

// setPath returns a copy of u with path attribute name set to value (kept in place).
func setPath(u *keyuri.URI, name, value string) *keyuri.URI {
	c := u.Clone()
	for i := range c.Path {
		if c.Path[i].Name == name {
			c.Path[i].Value = value
		}
	}
	return c
}

// nextPKCS11 renames the object (RFC 7512 section 2.3 "object", the CKA_LABEL) and, when
// the URI names it, increments the CKA_ID (its bytes as one big-endian number, same
// length; all 0xff wraps to zero). A URI with neither cannot name a new object.
func nextPKCS11(u *keyuri.URI) (*keyuri.URI, error) {
	label, hasLabel := u.PathAttr("object")
	id, hasID := u.PathAttr("id")
	if !hasLabel && !hasID {
		return nil, fmt.Errorf("rotate: %s names no object= or id=, so no new object can be named after it", u.WithoutSecrets())
	}
	c := u
	if hasLabel {
		c = setPath(c, "object", nextName(label))
	}
	if hasID {
		c = setPath(c, "id", nextID([]byte(id)))
	}
	return c, nil
}

// nextID is id plus one, as a big-endian number of the same length.
func nextID(id []byte) string {
	if len(id) == 0 {
		return "\x01"
	}
	n := new(big.Int).SetBytes(id)
	n.Add(n, big.NewInt(1))
	b := n.Bytes()
	out := make([]byte, len(id))
	if len(b) <= len(id) {
		copy(out[len(id)-len(b):], b)
	} // else it wrapped: all zero
	return string(out)
}

// nextTPM moves a persistent handle to the next one (TPM 2.0 Part 2 section 7.2: persistent
// objects are 0x81000000 to 0x81FFFFFF; the last wraps to the first) or a key file to
// NAME-r2.EXT next to it (prod.tss2.pem -> prod-r2.tss2.pem).
func nextTPM(u *keyuri.URI) (*keyuri.URI, error) {
	if h, ok := u.PathAttr("handle"); ok {
		v, err := keyuri.PersistentHandle(h)
		if err != nil {
			return nil, err
		}
		v++
		if v > 0x81FFFFFF {
			v = 0x81000000
		}
		return setPath(u, "handle", fmt.Sprintf("0x%08x", v)), nil
	}
	if _, ok := u.PathAttr("file"); !ok {
		return nil, fmt.Errorf("rotate: %s names no handle= or file=", u.WithoutSecrets())
	}
	return nextFile(u)
}

// nextFile names the key file after u's file= next to it, keeping everything after the
// first dot of its name: prod.tss2.pem -> prod-r2.tss2.pem, prod.keyset.json ->
// prod-r2.keyset.json.
func nextFile(u *keyuri.URI) (*keyuri.URI, error) {
	f, _ := u.PathAttr("file")
	if f == "" {
		return nil, fmt.Errorf("rotate: %s names no file=", u.WithoutSecrets())
	}
	dir, base := path.Split(f)
	stem, ext, _ := strings.Cut(base, ".")
	if ext != "" {
		ext = "." + ext
	}
	return setPath(u, "file", dir+nextName(stem)+ext), nil
}

// nextVault names the transit key after u's key= (prod -> prod-r2) on the same Vault,
// mount and namespace.
func nextVault(u *keyuri.URI) (*keyuri.URI, error) {
	name, _ := u.PathAttr("key")
	if name == "" {
		return nil, fmt.Errorf("rotate: %s names no key=", u.WithoutSecrets())
	}
	return setPath(u, "key", nextName(name)), nil
}

// nextTink names the keyset file after u's file= next to it, wrapped by the same KMS key.
func nextTink(u *keyuri.URI) (*keyuri.URI, error) { return nextFile(u) }

// nextYubiHSM takes the next object id (YubiHSM 2 object ids are 1 to 0xffff; the last
// wraps to 1), written as the old one was (hex with 0x, else decimal).
func nextYubiHSM(u *keyuri.URI) (*keyuri.URI, error) {
	s, _ := u.PathAttr("object-id")
	id, err := keyuri.ObjectID(s)
	if err != nil {
		return nil, err
	}
	id++
	if id == 0 {
		id = 1
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return setPath(u, "object-id", fmt.Sprintf("0x%04x", id)), nil
	}
	return setPath(u, "object-id", strconv.Itoa(int(id))), nil
}
