package tpm

import (
	"fmt"

	keyfile "github.com/foxboron/go-tpm-keyfiles"
	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugins"
)

// loadedKey is a key ready for use: a persistent object, or a key file's blobs loaded as a
// transient object that release flushes.
type loadedKey struct {
	ref     *keyRef
	handle  tpm2.TPMHandle
	name    tpm2.TPM2BName
	pub     *tpm2.TPMTPublic
	policy  *keyPolicy // nil: the password alone authorises use (userWithAuth)
	release func()
}

// readPublic runs TPM2_ReadPublic (Part 3 section 12.4) on a persistent handle; found is
// false when nothing is there.
func (d *device) readPublic(h tpm2.TPMHandle) (pub *tpm2.TPMTPublic, name tpm2.TPM2BName, found bool, err error) {
	rsp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(d.tpm)
	if isRC(err, tpm2.TPMRCHandle) {
		return nil, name, false, nil
	}
	if err != nil {
		return nil, name, false, d.deviceError(fmt.Sprintf("read public area of handle 0x%08x", uint32(h)), err)
	}
	pub, err = rsp.OutPublic.Contents()
	if err != nil {
		return nil, name, false, errorf("read public area of handle 0x%08x: %v: %w", uint32(h), err, plugins.ErrDevice)
	}
	return pub, rsp.Name, true, nil
}

func (d *device) loadKey(ref *keyRef) (*loadedKey, error) {
	if ref.file != "" {
		return d.loadFile(ref)
	}
	pub, name, found, err := d.readPublic(ref.handle)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf("%s on %s: nothing at that handle: %w", ref, d.name, plugins.ErrKeyNotFound)
	}
	k := &loadedKey{ref: ref, handle: ref.handle, name: name, pub: pub, release: func() {}}
	if !pub.ObjectAttributes.UserWithAuth {
		// A policy is needed; for a persistent key the URI must say which PCRs.
		if len(pub.AuthPolicy.Buffer) == 0 || ref.pcrs == nil {
			return nil, errorf("%s: the key is bound to PCR values (its use needs a policy); add pcrs= with the import's "+
				"selection (e.g. pcrs=sha256:7) to the key URI: %w", ref, plugins.ErrInvalidKeyURI)
		}
		k.policy = &keyPolicy{pcrs: ref.pcrs, authValue: true}
	}
	return k, nil
}

// srk is the TCG storage root key, created as a primary object each time (TCG TPM v2.0
// Provisioning Guidance section 7.5.1, template H-2 of the EK Credential Profile: ECC NIST
// P-256, AES-128-CFB). The TPM derives the same key from the owner seed every time, so it
// needs no persistent handle.
type srk struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	pub    tpm2.TPMTPublic
}

func (d *device) createSRK(hierarchy tpm2.TPMHandle) (*srk, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: hierarchy,
		InPublic:      tpm2.New2B(keyfile.ECCSRK_H2_Template),
	}.Execute(d.tpm)
	if err != nil {
		return nil, d.ownerError("create the storage root key (TPM2_CreatePrimary)", err)
	}
	s := &srk{handle: rsp.ObjectHandle, name: rsp.Name}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		d.flush(s.handle)
		return nil, errorf("create the storage root key: %v: %w", err, plugins.ErrDevice)
	}
	s.pub = *pub
	return s, nil
}

// flush frees a transient object or session (TPM2_FlushContext). Failures are ignored:
// there is nothing better to do, and the resource manager or a reset frees it anyway.
func (d *device) flush(h tpm2.TPMHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(d.tpm)
}

// parent returns the handle to load a key file's blobs under, and a function that
// releases it. The TSS2 key file format (draft-bottomley-tpm2-keys section 3.1) names
// the parent: a permanent handle means the ECC primary of that hierarchy made from the
// H-2 template, a persistent handle an existing key.
func (d *device) parent(h tpm2.TPMHandle) (tpm2.TPMHandle, tpm2.TPM2BName, func(), error) {
	switch {
	case keyfile.IsMSO(h, 0x40):
		s, err := d.createSRK(h)
		if err != nil {
			return 0, tpm2.TPM2BName{}, nil, err
		}
		return s.handle, s.name, func() { d.flush(s.handle) }, nil
	case keyfile.IsMSO(h, 0x81):
		_, name, found, err := d.readPublic(h)
		if err != nil {
			return 0, tpm2.TPM2BName{}, nil, err
		}
		if !found {
			return 0, tpm2.TPM2BName{}, nil, errorf("the key file's parent, persistent handle 0x%08x, is not in the TPM: %w",
				uint32(h), plugins.ErrKeyNotFound)
		}
		return h, name, func() {}, nil
	default:
		return 0, tpm2.TPM2BName{}, nil, errorf("the key file's parent 0x%08x is neither a hierarchy nor a persistent key: %w",
			uint32(h), plugins.ErrUnsupported)
	}
}

func (d *device) loadFile(ref *keyRef) (*loadedKey, error) {
	tk, err := readKeyFile(ref)
	if err != nil {
		return nil, err
	}
	if tk == nil {
		return nil, errorf("%s: no such file: %w", ref, plugins.ErrKeyNotFound)
	}
	policy, err := filePolicy(ref, tk)
	if err != nil {
		return nil, err
	}
	pub, err := tk.Pubkey.Contents()
	if err != nil {
		return nil, errorf("%s: malformed public blob: %v: %w", ref, err, plugins.ErrInvalidKeyURI)
	}
	parent, parentName, releaseParent, err := d.parent(tk.Parent)
	if err != nil {
		return nil, err
	}
	rsp, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: parent, Name: parentName, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tk.Privkey,
		InPublic:     tk.Pubkey,
	}.Execute(d.tpm)
	// The parent is needed only to load: free its slot at once (swtpm has three).
	releaseParent()
	if err != nil {
		if isRC(err, tpm2.TPMRCIntegrity) || isRC(err, tpm2.TPMRCBinding) {
			return nil, errorf("%s: the TPM cannot load it: the file was made by another TPM, or before the TPM was cleared: %w",
				ref, plugins.ErrKeyNotFound)
		}
		return nil, d.deviceError(fmt.Sprintf("load %s (TPM2_Load)", ref), err)
	}
	return &loadedKey{
		ref: ref, handle: rsp.ObjectHandle, name: rsp.Name, pub: pub, policy: policy,
		release: func() { d.flush(rsp.ObjectHandle) },
	}, nil
}

// isHMACKey reports whether pub is a keyed-hash signing key with an HMAC-SHA256 scheme,
// the only kind of object awskeep creates, uses and deletes.
func isHMACKey(pub *tpm2.TPMTPublic) bool {
	if pub.Type != tpm2.TPMAlgKeyedHash || !pub.ObjectAttributes.SignEncrypt || pub.ObjectAttributes.Decrypt {
		return false
	}
	parms, err := pub.Parameters.KeyedHashDetail()
	if err != nil || parms.Scheme.Scheme != tpm2.TPMAlgHMAC {
		return false
	}
	hmac, err := parms.Scheme.Details.HMAC()
	return err == nil && hmac.HashAlg == tpm2.TPMAlgSHA256
}

func (k *loadedKey) checkHMACKey() error {
	if !isHMACKey(k.pub) {
		return errorf("%s: not an HMAC-SHA256 key (%s): %w", k.ref, describeType(k.pub), plugins.ErrUnsupported)
	}
	return nil
}

// describeType names the kind of object in a public area, for messages and DescribeKey.
func describeType(pub *tpm2.TPMTPublic) string {
	switch pub.Type {
	case tpm2.TPMAlgKeyedHash:
		switch {
		case isHMACKey(pub):
			return plugins.AlgorithmHMACSHA256
		case !pub.ObjectAttributes.SignEncrypt && !pub.ObjectAttributes.Decrypt:
			return "tpm-sealed-data"
		default:
			return "tpm-keyedhash"
		}
	case tpm2.TPMAlgRSA:
		return "tpm-rsa"
	case tpm2.TPMAlgECC:
		return "tpm-ecc"
	case tpm2.TPMAlgSymCipher:
		return "tpm-symcipher"
	default:
		return fmt.Sprintf("tpm-0x%04x", uint16(pub.Type))
	}
}
