//go:build cgo

package pkcs11backend

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// maxListed bounds ListKeys: a token holding more awskeep keys than this is not one a
// person reads as a table.
const maxListed = 4096

// listKeys finds the awskeep keys on sel's token; u is the request URI the entries' URIs
// are made from.
func (b *Backend) listKeys(ctx context.Context, sel *selector, u *keyuri.URI, pin string) ([]plugins.KeyEntry, error) {
	var entries []plugins.KeyEntry
	err := withSession(sel, pin, func(s *session) error {
		hs, err := s.searchAll([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		})
		if err != nil {
			return err
		}
		for _, h := range hs {
			if err := ctx.Err(); err != nil {
				return err
			}
			attrs, err := s.p.GetAttributeValue(s.h, h, []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
				pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
			})
			if err != nil {
				return fmt.Errorf("pkcs11: list keys on token %q: read attributes: %w", s.tok.label, ckr(err))
			}
			label, id := string(attrs[0].Value), attrs[1].Value
			keyType, _ := ulong(attrs[2].Value)
			if algorithm(keyType) != plugins.AlgorithmHMACSHA256 || strings.HasPrefix(label, tempPrefix) || label == "" && len(id) == 0 {
				continue
			}
			e := plugins.KeyEntry{
				URI:   entryURI(u, s.tok.label, label, id),
				Label: label,
				Attributes: map[string]string{
					"token": s.tok.label, "token-serial": s.tok.serial, "key-type": keyTypeName(keyType),
				},
			}
			if len(id) > 0 {
				e.Attributes["id"] = hex.EncodeToString(id)
			}
			// Read alone: a token may fail it where it reads the rest (see startDate).
			if date, err := s.p.GetAttributeValue(s.h, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_START_DATE, nil)}); err == nil {
				if d, ok := ckDate(date[0].Value); ok {
					e.Created = d
				}
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(entries, func(a, b plugins.KeyEntry) int { return strings.Compare(a.URI, b.URI) })
	return entries, ctx.Err()
}

// searchAll runs C_FindObjects with tmpl, up to maxListed objects.
func (s *session) searchAll(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := s.p.FindObjectsInit(s.h, tmpl); err != nil {
		return nil, fmt.Errorf("pkcs11: list keys on token %q: %w", s.tok.label, ckr(err))
	}
	var all []pkcs11.ObjectHandle
	for len(all) < maxListed {
		hs, _, err := s.p.FindObjects(s.h, 256)
		if err != nil {
			_ = s.p.FindObjectsFinal(s.h)
			return nil, fmt.Errorf("pkcs11: list keys on token %q: %w", s.tok.label, ckr(err))
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := s.p.FindObjectsFinal(s.h); err != nil {
		return nil, fmt.Errorf("pkcs11: list keys on token %q: %w", s.tok.label, ckr(err))
	}
	return all, nil
}

// entryURI names one key: the request's token, slot and library attributes (token= added
// when the request selected the token otherwise), object= and id= of the key, and the
// request's query (module-path).
func entryURI(req *keyuri.URI, tokenLabel, label string, id []byte) string {
	u := req.WithoutSecrets()
	u.Path = slices.DeleteFunc(u.Path, func(a keyuri.Attr) bool {
		return a.Name == "object" || a.Name == "id" || a.Name == "type"
	})
	if _, ok := u.PathAttr("token"); !ok {
		u.Path = append([]keyuri.Attr{{Name: "token", Value: tokenLabel}}, u.Path...)
	}
	if label != "" {
		u.Path = append(u.Path, keyuri.Attr{Name: "object", Value: label})
	}
	if len(id) > 0 {
		u.Path = append(u.Path, keyuri.Attr{Name: "id", Value: string(id)})
	}
	return u.String()
}

// ckDate decodes a CK_DATE (PKCS#11 v2.40 section 3.3: "YYYYMMDD" in ASCII digits) as
// midnight UTC; an empty or all-zero date (never set) is not a date.
func ckDate(v []byte) (time.Time, bool) {
	if len(v) != 8 || string(v) == "00000000" || strings.Trim(string(v), "\x00 ") == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102", string(v))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
