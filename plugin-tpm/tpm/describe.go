package tpm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugins"
)

// describe turns a public area into the contract's description. The key value can leave
// the TPM only by duplication, which fixedTPM and fixedParent forbid (TPM 2.0 Part 1
// section 27.2); TPM2_Unseal reveals only keyedHash objects with neither sign nor decrypt.
func describe(ref *keyRef, pub *tpm2.TPMTPublic, name tpm2.TPM2BName, policy *keyPolicy, device string) plugins.KeyDescription {
	attrs := pub.ObjectAttributes
	desc := plugins.KeyDescription{
		Exists:      true,
		Algorithm:   describeType(pub),
		Extractable: !(attrs.FixedTPM && attrs.FixedParent),
		Sensitive:   !(pub.Type == tpm2.TPMAlgKeyedHash && !attrs.SignEncrypt && !attrs.Decrypt),
		Label:       ref.String(),
		Attributes: map[string]string{
			"name": hex.EncodeToString(name.Buffer),
		},
	}
	if ref.file != "" {
		desc.Attributes["file"] = ref.file
	} else {
		desc.Attributes["handle"] = fmt.Sprintf("0x%08x", uint32(ref.handle))
		desc.Attributes["device"] = device
	}
	switch {
	case attrs.UserWithAuth:
		desc.Attributes["auth"] = "password"
	case policy != nil:
		desc.Attributes["auth"] = "pcr-policy"
		desc.Attributes["pcrs"] = policy.pcrs.String()
	default:
		desc.Attributes["auth"] = "policy"
	}
	return desc
}

func (d *device) describeHandle(ref *keyRef) (plugins.KeyDescription, error) {
	pub, name, found, err := d.readPublic(ref.handle)
	if err != nil || !found {
		return plugins.KeyDescription{}, err
	}
	var policy *keyPolicy
	if !pub.ObjectAttributes.UserWithAuth && ref.pcrs != nil {
		policy = &keyPolicy{pcrs: ref.pcrs}
	}
	return describe(ref, pub, name, policy, d.name), nil
}

func describeFile(ref *keyRef) (plugins.KeyDescription, error) {
	tk, err := readKeyFile(ref)
	if err != nil || tk == nil {
		return plugins.KeyDescription{}, err
	}
	pub, err := tk.Pubkey.Contents()
	if err != nil {
		return plugins.KeyDescription{}, errorf("%s: malformed public blob: %v: %w", ref, err, plugins.ErrInvalidKeyURI)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return plugins.KeyDescription{}, errorf("%s: %v: %w", ref, err, plugins.ErrInvalidKeyURI)
	}
	policy, err := filePolicy(ref, tk)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	return describe(ref, pub, *name, policy, ""), nil
}

func (d *device) deleteHandle(ref *keyRef) error {
	pub, name, found, err := d.readPublic(ref.handle)
	if err != nil {
		return err
	}
	if !found {
		return errorf("delete %s on %s: nothing at that handle: %w", ref, d.name, plugins.ErrKeyNotFound)
	}
	if !isHMACKey(pub) {
		return errorf("delete %s: the handle holds a %s object, not an HMAC key; not deleting it: %w",
			ref, describeType(pub), plugins.ErrPermissionDenied)
	}
	if _, err := (tpm2.EvictControl{
		Auth:             tpm2.TPMRHOwner,
		ObjectHandle:     tpm2.NamedHandle{Handle: ref.handle, Name: name},
		PersistentHandle: ref.handle,
	}).Execute(d.tpm); err != nil {
		return d.ownerError(fmt.Sprintf("delete %s (TPM2_EvictControl)", ref), err)
	}
	return nil
}

func deleteFile(ref *keyRef) error {
	tk, err := readKeyFile(ref)
	if err != nil {
		return fmt.Errorf("%w (not deleting it)", err)
	}
	if tk == nil {
		return errorf("delete %s: no such file: %w", ref, plugins.ErrKeyNotFound)
	}
	if err := os.Remove(ref.file); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errorf("delete %s: no such file: %w", ref, plugins.ErrKeyNotFound)
		}
		return keyFileError(ref, err)
	}
	return nil
}
