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
		h, err := b.one(s, sel)
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

func (b *Backend) describeKey(ctx context.Context, sel *selector, pin string) (plugins.KeyDescription, error) {
	var desc plugins.KeyDescription
	err := withSession(sel, pin, func(s *session) error {
		hs, err := b.lookup(s, sel)
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
		if left, err := s.leftovers(sel, true); err == nil && len(left) > 0 {
			desc.Attributes["interrupted-import"] = "an import --force was interrupted before it replaced this key, " +
				"so this is the key from before it; import again with --force to replace it"
		}
		return nil
	})
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	return desc, ctx.Err()
}

// deleteKey destroys the key and whatever an interrupted replacement of it left behind, so
// that a committed replacement cannot take the deleted key's place later.
func (b *Backend) deleteKey(ctx context.Context, sel *selector, pin string) error {
	return withSession(sel, pin, func(s *session) error {
		s.tok.writeMu.Lock()
		defer s.tok.writeMu.Unlock()
		hs, err := b.finishInterrupted(s, sel)
		if err != nil {
			return err
		}
		h, err := s.pick(sel, hs)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.p.DestroyObject(s.h, h); err != nil {
			return fmt.Errorf("pkcs11: delete %s on token %q: %w", sel.keyName(), s.tok.label, ckr(err))
		}
		if err := b.removeLeftovers(s, sel, true); err != nil {
			return fmt.Errorf("pkcs11: delete %s on token %q: the key is deleted, but %w", sel.keyName(), s.tok.label, err)
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
	return s.search(sel, tmpl)
}

// findLabel returns the secret keys labelled label; sel names the key for messages.
func (s *session) findLabel(sel *selector, label string) ([]pkcs11.ObjectHandle, error) {
	return s.search(sel, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	})
}

// search runs C_FindObjects with tmpl, up to maxMatches objects.
func (s *session) search(sel *selector, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
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

// lookup returns the keys sel names. When there is none, it first puts in place the new
// key of a replacement that was interrupted after deleting the old one (finishInterrupted).
func (b *Backend) lookup(s *session, sel *selector) ([]pkcs11.ObjectHandle, error) {
	hs, err := s.find(sel)
	if err != nil || len(hs) > 0 {
		return hs, err
	}
	// Rare (a missing key, or the moment inside a replacement): serialize with imports
	// of this process, which may be about to rename the new key themselves.
	s.tok.writeMu.Lock()
	defer s.tok.writeMu.Unlock()
	return b.finishInterrupted(s, sel)
}

// one returns the single key sel names: ErrKeyNotFound for none, ErrAmbiguousKey for more.
func (b *Backend) one(s *session, sel *selector) (pkcs11.ObjectHandle, error) {
	hs, err := b.lookup(s, sel)
	if err != nil {
		return 0, err
	}
	return s.pick(sel, hs)
}

// pick returns the single key of hs: ErrKeyNotFound for none, ErrAmbiguousKey for more.
func (s *session) pick(sel *selector, hs []pkcs11.ObjectHandle) (pkcs11.ObjectHandle, error) {
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
