//go:build cgo

package pkcs11backend

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugins"
)

// maxMatches bounds a key search; a URI matching more keys than this is ambiguous anyway.
const maxMatches = 64

// importCheckMessage is what ImportKey signs to prove the token can use the new key.
var importCheckMessage = []byte("awskeep import check")

var hmacMechanism = []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256_HMAC, nil)}

func (b *Backend) hmac(ctx context.Context, sel *selector, pin string, message []byte) ([]byte, error) {
	var mac []byte
	err := withSession(sel, pin, func(s *session) error {
		h, err := s.one(sel)
		if err != nil {
			return err
		}
		// Last chance to give up: C_SignInit and C_Sign cannot be interrupted.
		if err := ctx.Err(); err != nil {
			return err
		}
		mac, err = s.sign(h, message)
		if err != nil {
			return fmt.Errorf("pkcs11: hmac with %s on token %q: %w", sel.keyName(), s.tok.label, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return mac, nil
}

// sign computes CKM_SHA256_HMAC (PKCS#11 v2.40 Current Mechanisms section 2.25.4) with h.
func (s *session) sign(h pkcs11.ObjectHandle, message []byte) ([]byte, error) {
	if err := s.p.SignInit(s.h, hmacMechanism, h); err != nil {
		return nil, ckr(err)
	}
	mac, err := s.p.Sign(s.h, message)
	if err != nil {
		return nil, ckr(err)
	}
	if len(mac) != 32 {
		return nil, fmt.Errorf("CKM_SHA256_HMAC returned %d bytes, not 32: %w", len(mac), plugins.ErrDevice)
	}
	return mac, nil
}

func (b *Backend) importKey(ctx context.Context, sel *selector, pin string, material []byte, opts plugins.ImportOptions) error {
	return withSession(sel, pin, func(s *session) error {
		s.tok.writeMu.Lock()
		defer s.tok.writeMu.Unlock()
		where := fmt.Sprintf("pkcs11: import %s into token %q", sel.keyName(), s.tok.label)
		old, err := s.find(sel)
		if err != nil {
			return err
		}
		if len(old) > 0 && !opts.Overwrite {
			return fmt.Errorf("%s: the token has %s already; replace it with --force (ImportOptions.Overwrite): %w",
				where, countKeys(len(old)), plugins.ErrKeyExists)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The attribute list copies material into C memory that the wrapper frees without
		// clearing; nothing in Go can reach it afterwards.
		tmpl := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, material),
		}
		if sel.hasLabel {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, sel.label))
		}
		if sel.hasID {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, sel.id))
		}
		// Replacing creates the new key first and destroys the old ones after, never the
		// other way round: PKCS#11 has no transactions, and if the process or token failed
		// between the two steps, destroying first would lose the only copy of the secret
		// (the user may not have it any more). The price is a moment in which the URI
		// matches two keys; a failure there leaves both, which the error says and a second
		// --force import repairs. From here on ctx is not consulted, so that an import
		// either completes or is undone.
		h, err := s.p.CreateObject(s.h, tmpl)
		if err != nil {
			return fmt.Errorf("%s: %w", where, ckr(err))
		}
		// A token may accept a key it cannot use (SoftHSM stores a 20-byte key, then
		// refuses HMAC with CKR_KEY_SIZE_RANGE). Find out now, while the user still has
		// the secret at hand and before an old key is destroyed.
		if _, err := s.sign(h, importCheckMessage); err != nil {
			if derr := s.p.DestroyObject(s.h, h); derr != nil {
				return fmt.Errorf("%s: the token cannot compute HMAC with the new key (%v), and removing it failed too; delete it with the token's tools: %w",
					where, err, ckr(derr))
			}
			return fmt.Errorf("%s: the token cannot compute HMAC with this key, so it was not kept: %w", where, err)
		}
		for i, o := range old {
			if err := s.p.DestroyObject(s.h, o); err != nil {
				return fmt.Errorf("%s: the new key is stored, but deleting the key it replaces failed, so the URI now matches %d keys; import again with --force or delete the old key: %w",
					where, len(old)-i+1, ckr(err))
			}
		}
		return nil
	})
}

func (b *Backend) describeKey(ctx context.Context, sel *selector, pin string) (plugins.KeyDescription, error) {
	var desc plugins.KeyDescription
	err := withSession(sel, pin, func(s *session) error {
		hs, err := s.find(sel)
		if err != nil {
			return err
		}
		switch len(hs) {
		case 0:
			return nil // Exists false
		case 1:
		default:
			return s.ambiguous(sel, hs)
		}
		attrs, err := s.p.GetAttributeValue(s.h, hs[0], []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, nil),
		})
		if err != nil {
			return fmt.Errorf("pkcs11: describe %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
		}
		keyType, _ := ulong(attrs[2].Value)
		desc = plugins.KeyDescription{
			Exists:      true,
			Algorithm:   algorithm(keyType),
			Label:       string(attrs[0].Value),
			Sensitive:   boolean(attrs[3].Value),
			Extractable: boolean(attrs[4].Value),
			Attributes: map[string]string{
				"token":        s.tok.label,
				"token-serial": s.tok.serial,
				"key-type":     keyTypeName(keyType),
				"sign":         strconv.FormatBool(boolean(attrs[5].Value)),
			},
		}
		if id := attrs[1].Value; len(id) > 0 {
			desc.Attributes["id"] = hex.EncodeToString(id)
		}
		return nil
	})
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	return desc, ctx.Err()
}

func (b *Backend) deleteKey(ctx context.Context, sel *selector, pin string) error {
	return withSession(sel, pin, func(s *session) error {
		s.tok.writeMu.Lock()
		defer s.tok.writeMu.Unlock()
		h, err := s.one(sel)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.p.DestroyObject(s.h, h); err != nil {
			return fmt.Errorf("pkcs11: delete %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
		}
		return nil
	})
}

// find returns the secret keys matching sel's object (CKA_LABEL) and id (CKA_ID).
func (s *session) find(sel *selector) ([]pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY)}
	if sel.hasLabel {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, sel.label))
	}
	if sel.hasID {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, sel.id))
	}
	if err := s.p.FindObjectsInit(s.h, tmpl); err != nil {
		return nil, fmt.Errorf("pkcs11: find %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
	}
	var all []pkcs11.ObjectHandle
	for len(all) < maxMatches {
		hs, _, err := s.p.FindObjects(s.h, maxMatches)
		if err != nil {
			_ = s.p.FindObjectsFinal(s.h)
			return nil, fmt.Errorf("pkcs11: find %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := s.p.FindObjectsFinal(s.h); err != nil {
		return nil, fmt.Errorf("pkcs11: find %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
	}
	return all, nil
}

// one returns the single key sel names: ErrKeyNotFound for none, ErrAmbiguousKey for more.
func (s *session) one(sel *selector) (pkcs11.ObjectHandle, error) {
	hs, err := s.find(sel)
	if err != nil {
		return 0, err
	}
	switch len(hs) {
	case 0:
		return 0, fmt.Errorf("pkcs11: no %s on token %q: %w", sel.keyName(), s.tok.label, plugins.ErrKeyNotFound)
	case 1:
		return hs[0], nil
	default:
		return 0, s.ambiguous(sel, hs)
	}
}

// ambiguous explains which URI attribute would tell the keys in hs apart.
func (s *session) ambiguous(sel *selector, hs []pkcs11.ObjectHandle) error {
	var labels, ids []string
	for _, h := range hs {
		attrs, err := s.p.GetAttributeValue(s.h, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		})
		if err != nil {
			return fmt.Errorf("pkcs11: %s on token %q matches %d keys: %w", sel.keyName(), s.tok.label, len(hs), plugins.ErrAmbiguousKey)
		}
		labels = append(labels, strconv.Quote(string(attrs[0].Value)))
		ids = append(ids, hexID(attrs[1].Value))
	}
	n := len(hs)
	switch {
	case !sel.hasID && distinct(ids) && !slices.Contains(ids, hexID(nil)):
		return fmt.Errorf("pkcs11: %d keys have label %q on token %q; add id= to the URI, e.g. id=%%%s (ids: %s): %w",
			n, sel.label, s.tok.label, pctID(ids[0]), strings.Join(ids, ", "), plugins.ErrAmbiguousKey)
	case !sel.hasLabel && distinct(labels):
		return fmt.Errorf("pkcs11: %d keys have id %s on token %q; add object= to the URI (labels: %s): %w",
			n, hexID(sel.id), s.tok.label, strings.Join(labels, ", "), plugins.ErrAmbiguousKey)
	default:
		return fmt.Errorf("pkcs11: %d keys match %s on token %q and no URI attribute tells them apart (labels: %s; ids: %s); delete the extra keys with the token's tools: %w",
			n, sel.keyName(), s.tok.label, strings.Join(labels, ", "), strings.Join(ids, ", "), plugins.ErrAmbiguousKey)
	}
}

// pctID writes a hex id the way a URI carries it (RFC 7512 section 2.3: id is
// percent-encoded bytes): "0102" -> "01%02".
func pctID(h string) string {
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		if i > 0 {
			b.WriteByte('%')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func distinct(xs []string) bool {
	seen := make(map[string]bool, len(xs))
	for _, x := range xs {
		if seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}

func countKeys(n int) string {
	if n == 1 {
		return "a key by that name"
	}
	return fmt.Sprintf("%d keys by that name", n)
}

// boolean decodes a CK_BBOOL.
func boolean(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// ulong decodes a CK_ULONG, which modules hand over in native byte order and width.
func ulong(v []byte) (uint, bool) {
	switch len(v) {
	case 8:
		return uint(binary.NativeEndian.Uint64(v)), true
	case 4:
		return uint(binary.NativeEndian.Uint32(v)), true
	}
	return 0, false
}

// algorithm names what a key of type kt computes for awskeep.
func algorithm(kt uint) string {
	switch kt {
	case pkcs11.CKK_GENERIC_SECRET, pkcs11.CKK_SHA256_HMAC:
		return plugins.AlgorithmHMACSHA256
	}
	return "pkcs11:" + keyTypeName(kt)
}

func keyTypeName(kt uint) string {
	switch kt {
	case pkcs11.CKK_GENERIC_SECRET:
		return "CKK_GENERIC_SECRET"
	case pkcs11.CKK_SHA256_HMAC:
		return "CKK_SHA256_HMAC"
	case pkcs11.CKK_SHA_1_HMAC:
		return "CKK_SHA_1_HMAC"
	case pkcs11.CKK_AES:
		return "CKK_AES"
	case pkcs11.CKK_DES3:
		return "CKK_DES3"
	}
	return fmt.Sprintf("CKK 0x%X", kt)
}
