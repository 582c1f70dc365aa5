package tpm

import (
	"context"
	"fmt"

	keyfile "github.com/foxboron/go-tpm-keyfiles"
	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugins"
)

// maxSensitiveData is the longest HMAC key a TPM accepts: the block size of the scheme's
// hash, 64 bytes for SHA-256. TPM2B_SENSITIVE_DATA could hold 128 (MAX_SYM_DATA, Part 2
// section 11.1.14), but the reference implementation and swtpm answer TPM_RC_SIZE beyond
// the block size (measured). "AWS4" and a 40-character secret are 44 bytes.
const maxSensitiveData = 64

// hmacTemplate is the public area of an imported key. fixedTPM and fixedParent keep it in
// this TPM (no TPM2_Duplicate), sensitiveDataOrigin is clear because the caller supplies
// the key, sign without decrypt makes it an HMAC key that TPM2_Unseal refuses, and noDA is
// clear so that wrong passwords count towards dictionary-attack lockout.
func hmacTemplate(policy []byte) tpm2.TPMTPublic {
	return tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgKeyedHash,
		NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM:     true,
			FixedParent:  true,
			UserWithAuth: len(policy) == 0,
			SignEncrypt:  true,
		},
		AuthPolicy: tpm2.TPM2BDigest{Buffer: policy},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{
				Scheme:  tpm2.TPMAlgHMAC,
				Details: tpm2.NewTPMUSchemeKeyedHash(tpm2.TPMAlgHMAC, &tpm2.TPMSSchemeHMAC{HashAlg: tpm2.TPMAlgSHA256}),
			},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgKeyedHash, &tpm2.TPM2BDigest{}),
	}
}

// importKey creates the key under the owner hierarchy's storage key (TPM2_Create with the
// caller's sensitive data) and stores it in a key file or at a persistent handle.
//
// Replacing (overwrite) a key file is atomic: the new file is written beside it and renamed
// over it. Replacing a key at a persistent handle is not, and cannot be made so: a handle
// holds one object, TPM2_EvictControl (Part 3 section 28.5) cannot overwrite it, and the TPM
// has no command that swaps two objects. So the old key is evicted first and the new one
// made persistent after. Two keys at one handle cannot happen; but a replacement cut off
// between the two commands (the plugin killed, the TPM reset, the bus gone) leaves the
// handle empty, and the error then says that the old key may be gone and to check with
// awskeep keys describe. Once the old key is evicted, the request's context no longer
// counts, so a host's deadline alone does not cut the sequence off there.
func (d *device) importKey(ref *keyRef, pin, material []byte, overwrite bool) error {
	replace := false
	var oldName tpm2.TPM2BName
	if ref.file != "" {
		existing, err := readKeyFile(ref)
		if err != nil {
			return fmt.Errorf("%w (not replacing it)", err)
		}
		if existing != nil && !overwrite {
			return errorf("import %s: a key file is there already: %w", ref, plugins.ErrKeyExists)
		}
	} else {
		pub, name, found, err := d.readPublic(ref.handle)
		if err != nil {
			return err
		}
		if found {
			if !overwrite {
				return errorf("import %s: a key is there already: %w", ref, plugins.ErrKeyExists)
			}
			if !isHMACKey(pub) {
				return errorf("import %s: the handle holds a %s object, not an HMAC key; not replacing it: %w",
					ref, describeType(pub), plugins.ErrKeyExists)
			}
			replace, oldName = true, name
		}
	}

	var policy *keyPolicy
	var policyDigest []byte
	if ref.pcrs != nil {
		digest, err := d.pcrDigest(ref.pcrs)
		if err != nil {
			return err
		}
		policy = &keyPolicy{pcrs: ref.pcrs, pcrDigest: digest, authValue: true}
		if policyDigest, err = policy.digest(); err != nil {
			return errorf("import %s: compute PCR policy: %v: %w", ref, err, plugins.ErrDevice)
		}
	}

	parent, err := d.createSRK(tpm2.TPMRHOwner)
	if err != nil {
		return err
	}
	parentLoaded := true
	releaseParent := func() {
		if parentLoaded {
			d.flush(parent.handle)
			parentLoaded = false
		}
	}
	defer releaseParent()

	// The secret is the first parameter of TPM2_Create (inSensitive); a session salted
	// with the storage key's public key encrypts it (TPM 2.0 Part 1 section 21), so only
	// this TPM can read it off the bus.
	sess := tpm2.HMAC(tpm2.TPMAlgSHA256, 16,
		tpm2.Salted(parent.handle, parent.pub),
		tpm2.AESEncryption(128, tpm2.EncryptIn))
	created, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: parent.handle, Name: parent.name, Auth: sess},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: pin},
			Data:     tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: material}),
		}},
		InPublic: tpm2.New2B(hmacTemplate(policyDigest)),
	}.Execute(d.tpm)
	if err != nil {
		if isRC(err, tpm2.TPMRCSize) || isRC(err, tpm2.TPMRCKeySize) {
			return errorf("import %s: the TPM refuses key material of %d bytes: %w", ref, len(material), plugins.ErrUnsupported)
		}
		return d.deviceError(fmt.Sprintf("import %s (TPM2_Create)", ref), err)
	}

	if ref.file != "" {
		releaseParent()
		opts := []keyfile.TPMKeyOption{
			keyfile.WithParent(tpm2.TPMRHOwner),
			keyfile.WithUserAuth(pin),
			keyfile.WithDescription("awskeep HMAC-SHA256 key"),
		}
		if policy != nil {
			opts = append(opts, keyfile.WithPolicy(policy.fileEntries()))
		}
		tk := keyfile.NewTPMKey(keyfile.OIDLoadableKey, created.OutPublic, created.OutPrivate, opts...)
		return writeKeyFile(ref, tk, overwrite)
	}

	loaded, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: parent.handle, Name: parent.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    created.OutPrivate,
		InPublic:     created.OutPublic,
	}.Execute(d.tpm)
	releaseParent()
	if err != nil {
		return d.deviceError(fmt.Sprintf("import %s (TPM2_Load)", ref), err)
	}
	defer d.flush(loaded.ObjectHandle)

	// TPM2_EvictControl (Part 3 section 28.5) cannot overwrite: the old key goes first.
	persistTPM := d.tpm
	oldGone := ""
	if replace {
		if _, err := (tpm2.EvictControl{
			Auth:             tpm2.TPMRHOwner,
			ObjectHandle:     tpm2.NamedHandle{Handle: ref.handle, Name: oldName},
			PersistentHandle: ref.handle,
		}).Execute(d.tpm); err != nil {
			// The TPM may have evicted it before the answer was lost.
			return d.ownerError(fmt.Sprintf("import %s: remove the old key (TPM2_EvictControl); "+
				"the old key may be gone (check with awskeep keys describe)", ref), err)
		}
		// The handle is empty now: make the new key persistent even if the request was
		// cancelled meanwhile, rather than leave no key.
		if r, ok := d.tpm.(*retrier); ok {
			detached := *r
			detached.ctx = context.WithoutCancel(r.ctx)
			persistTPM = &detached
		}
		oldGone = "; the old key is gone and the handle may be empty: check with awskeep keys describe and import again"
	}
	if _, err := (tpm2.EvictControl{
		Auth:             tpm2.TPMRHOwner,
		ObjectHandle:     tpm2.NamedHandle{Handle: loaded.ObjectHandle, Name: loaded.Name},
		PersistentHandle: ref.handle,
	}).Execute(persistTPM); err != nil {
		if isRC(err, tpm2.TPMRCNVDefined) {
			return errorf("import %s: a key appeared there meanwhile: %w", ref, plugins.ErrKeyExists)
		}
		return d.ownerError(fmt.Sprintf("import %s: make the key persistent (TPM2_EvictControl)%s", ref, oldGone), err)
	}
	return nil
}
