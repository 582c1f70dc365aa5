//go:build cgo

package pkcs11backend

import (
	"context"
	"fmt"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugins"
)

func (b *Backend) importKey(ctx context.Context, sel *selector, pin string, material []byte, opts plugins.ImportOptions) error {
	if sel.reservedLabel() {
		return fmt.Errorf("pkcs11: import %s: labels starting with %q are awskeep's temporary names; choose another object=: %w",
			sel.keyName(), tempPrefix, plugins.ErrInvalidKeyURI)
	}
	return withSession(sel, pin, func(s *session) error {
		s.tok.writeMu.Lock()
		defer s.tok.writeMu.Unlock()
		where := fmt.Sprintf("pkcs11: import %s into token %q", sel.keyName(), s.tok.label)
		// A committed replacement whose old key is gone is the key: finish it, so that a
		// plain import says it exists and --force replaces it.
		old, err := b.finishInterrupted(s, sel)
		if err != nil {
			return err
		}
		if len(old) > 0 && !opts.Overwrite {
			return fmt.Errorf("%s: the token has %s already; replace it with --force (ImportOptions.Overwrite): %w",
				where, countKeys(len(old)), plugins.ErrKeyExists)
		}
		// This import supersedes whatever an interrupted one left.
		if err := b.removeLeftovers(s, sel, true); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(old) == 0 {
			return b.create(s, sel, material, where)
		}
		return b.replace(ctx, s, sel, material, old, where)
	})
}

// keyTemplate is an awskeep key holding material, without CKA_LABEL and CKA_ID, and dated
// (CKA_START_DATE, see startDate) when date is not nil. The attribute list copies material
// into C memory that the wrapper frees without clearing; nothing in Go can reach it
// afterwards.
func keyTemplate(material []byte, date *pkcs11.Attribute) []*pkcs11.Attribute {
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
		// A replacement renames the key twice (C_SetAttributeValue); PKCS#11 v2.40
		// section 4.4 lets a token refuse that for objects with CKA_MODIFIABLE false.
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, material),
	}
	if date != nil {
		tmpl = append(tmpl, date)
	}
	return tmpl
}

// startDate is the CKA_START_DATE of a key created now (PKCS#11 v2.40 section 4.7: "start
// date for the key", a CK_DATE; ListKeys reports it as the key's creation), or nil when the
// token could not read it back: SoftHSM 2.6 stores the date of a private object in clear
// and then fails to decrypt it, answering every later C_GetAttributeValue of it with
// CKR_GENERAL_ERROR (SoftHSMv2 issues 655 and 804). Whether the token can is probed once,
// with a session object that is destroyed at once.
func (b *Backend) startDate(s *session) *pkcs11.Attribute {
	date := pkcs11.NewAttribute(pkcs11.CKA_START_DATE, b.opts.Now().UTC())
	s.tok.datesOnce.Do(func() {
		h, err := s.p.CreateObject(s.h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, make([]byte, 32)),
			date,
		})
		if err != nil {
			return
		}
		defer func() { _ = s.p.DestroyObject(s.h, h) }()
		attrs, err := s.p.GetAttributeValue(s.h, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_START_DATE, nil)})
		s.tok.datesReadable = err == nil && len(attrs) == 1 && string(attrs[0].Value) == string(date.Value)
	})
	if !s.tok.datesReadable {
		return nil
	}
	return date
}

// nameAttrs are the CKA_LABEL and CKA_ID that sel gives a key. A URI without object=
// leaves the label empty, as a key created without CKA_LABEL has it.
func nameAttrs(sel *selector) []*pkcs11.Attribute {
	attrs := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, sel.label)}
	if sel.hasID {
		attrs = append(attrs, pkcs11.NewAttribute(pkcs11.CKA_ID, sel.id))
	}
	return attrs
}

// create stores a key where there is none: one C_CreateObject, atomic on the token. A token
// may accept a key it cannot use (SoftHSM stores a 20-byte key, then refuses HMAC with
// CKR_KEY_SIZE_RANGE), so the key is tried once and removed if that fails, while the user
// still has the secret at hand.
func (b *Backend) create(s *session, sel *selector, material []byte, where string) error {
	tmpl := keyTemplate(material, b.startDate(s))
	if sel.hasLabel {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, sel.label))
	}
	if sel.hasID {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, sel.id))
	}
	h, err := s.p.CreateObject(s.h, tmpl)
	if err != nil {
		return fmt.Errorf("%s: %w", where, ckr(err))
	}
	if _, err := s.sign(h, importCheckMessage); err != nil {
		if derr := s.p.DestroyObject(s.h, h); derr != nil {
			return fmt.Errorf("%s: the token cannot compute HMAC with the new key (%v), and removing it failed too; delete it with awskeep keys delete: %w",
				where, err, ckr(derr))
		}
		return fmt.Errorf("%s: the token cannot compute HMAC with this key, so it was not kept: %w", where, err)
	}
	return nil
}

// replace puts a key holding material in the place of old, in the five steps described in
// replace.go. The caller holds the token's writeMu.
//
// Once the new key exists, the request's ctx no longer counts: a host that gave up (its
// deadline, or the user's Ctrl-C) must not leave the sequence halfway, and Close keeps the
// process alive for it. Until the commit, a token slower than finishTimeout makes the
// sequence undo itself; after it, the sequence runs to its end.
func (b *Backend) replace(ctx context.Context, s *session, sel *selector, material []byte, old []pkcs11.ObjectHandle, where string) error {
	b.replacing.begin()
	defer b.replacing.end()

	pending, committed := sel.tempLabel(false), sel.tempLabel(true)
	h, err := s.p.CreateObject(s.h, append(keyTemplate(material, b.startDate(s)), pkcs11.NewAttribute(pkcs11.CKA_LABEL, pending)))
	if err != nil {
		return fmt.Errorf("%s: %w", where, ckr(err))
	}
	finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if b.stop(stepCreate) {
		return errInterrupted
	}
	// undo removes the new key before the old one was touched; the old key stays.
	undo := func(cause error) error {
		if derr := s.p.DestroyObject(s.h, h); derr != nil {
			return fmt.Errorf("%s: %w; the old key is kept, and removing the new one (label %q) failed (%v); the next import removes it",
				where, cause, pending, ckr(derr))
		}
		return fmt.Errorf("%s: %w; the old key is kept", where, cause)
	}

	if _, err := s.sign(h, importCheckMessage); err != nil {
		return undo(fmt.Errorf("the token cannot compute HMAC with the new key, so it was not kept: %w", err))
	}
	if b.stop(stepCheck) {
		return errInterrupted
	}
	if err := finish.Err(); err != nil {
		return undo(fmt.Errorf("the token took more than %v to store and check the new key: %w", finishTimeout, err))
	}

	err = s.p.SetAttributeValue(s.h, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, committed)})
	if err != nil {
		return undo(fmt.Errorf("the token refuses to rename the new key, which replacing a key safely needs "+
			"(delete the old key with awskeep keys delete, then import without --force): %w", ckr(err)))
	}
	if b.stop(stepCommit) {
		return errInterrupted
	}

	for i, o := range old {
		if err := s.p.DestroyObject(s.h, o); err != nil {
			if i == 0 {
				return undo(fmt.Errorf("deleting the key it replaces failed: %w", ckr(err)))
			}
			return fmt.Errorf("%s: the new key is stored as %q, but deleting the old keys failed after %d of %d, so the URI still names the rest; import again with --force: %w",
				where, committed, i, len(old), ckr(err))
		}
	}
	if b.stop(stepDestroy) {
		return errInterrupted
	}

	if err := s.p.SetAttributeValue(s.h, h, nameAttrs(sel)); err != nil {
		return fmt.Errorf("%s: the old key is deleted and the new one stored as %q, but renaming it failed; the next use of the URI tries again: %w",
			where, committed, ckr(err))
	}
	if b.stop(stepRename) {
		return errInterrupted
	}
	return nil
}

// stop asks the test hook whether to stop a replacement after step.
func (b *Backend) stop(step importStep) bool {
	return b.interrupt != nil && b.interrupt(step)
}

// finishInterrupted returns the keys sel names. If there are none but a committed
// replacement is on the token, a replacement was interrupted after deleting the old key:
// the new key was checked and meant to take its place, so it is renamed to sel's name (the
// last step) and returned. The caller holds the token's writeMu.
func (b *Backend) finishInterrupted(s *session, sel *selector) ([]pkcs11.ObjectHandle, error) {
	hs, err := s.find(sel)
	if err != nil || len(hs) > 0 {
		return hs, err
	}
	label := sel.tempLabel(true)
	cs, err := s.findLabel(sel, label)
	if err != nil || len(cs) != 1 {
		// None, or several (imports racing in several processes): nothing to finish.
		return nil, err
	}
	if err := s.p.SetAttributeValue(s.h, cs[0], nameAttrs(sel)); err != nil {
		return nil, fmt.Errorf("pkcs11: %s on token %q: an interrupted import left the new key as %q, and renaming it failed: %w",
			sel.keyName(), s.tok.label, label, ckr(err))
	}
	b.log.Debug("finished an interrupted key replacement: renamed the new key", "key", sel.keyName(), "token", s.tok.label, "from", label)
	return cs, nil
}

// leftovers returns the temporary keys of interrupted replacements of sel: pending ones,
// and with committed also committed ones.
func (s *session) leftovers(sel *selector, committed bool) ([]pkcs11.ObjectHandle, error) {
	hs, err := s.findLabel(sel, sel.tempLabel(false))
	if err != nil || !committed {
		return hs, err
	}
	cs, err := s.findLabel(sel, sel.tempLabel(true))
	return append(hs, cs...), err
}

// removeLeftovers destroys the temporary keys of interrupted replacements of sel (see
// leftovers). None of them is named by a URI, and the caller is about to store or delete
// the key they were meant for. The caller holds the token's writeMu.
func (b *Backend) removeLeftovers(s *session, sel *selector, committed bool) error {
	hs, err := s.leftovers(sel, committed)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := s.p.DestroyObject(s.h, h); err != nil {
			return fmt.Errorf("removing what an interrupted import left (a key labelled %s...) failed: %w", tempPrefix, ckr(err))
		}
	}
	if len(hs) > 0 {
		b.log.Debug("removed the leftovers of an interrupted key replacement", "key", sel.keyName(), "token", s.tok.label, "objects", len(hs))
	}
	return nil
}
