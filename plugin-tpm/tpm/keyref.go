package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugin-tpm/pcrs"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// maxAuthSize is the size of a TPM2B_AUTH for a SHA-256 object: the digest size of its
// nameAlg (TPM 2.0 Part 2 section 10.4.5).
const maxAuthSize = 32

// Owner persistent handles (TPM 2.0 Part 2 section 7.5, and the TCG Provisioning Guidance):
// the upper half of the persistent range belongs to the platform hierarchy.
const (
	firstOwnerPersistent = 0x81000000
	lastOwnerPersistent  = 0x817FFFFF
)

// keyRef is a parsed tpm: key URI.
type keyRef struct {
	handle tpm2.TPMHandle // a persistent handle, or 0 for a file
	file   string
	device string
	pcrs   pcrs.Selection // from pcrs=, nil without
}

// String names the key in messages.
func (r *keyRef) String() string {
	if r.file != "" {
		return "file " + r.file
	}
	return fmt.Sprintf("handle 0x%08x", uint32(r.handle))
}

func parseKey(uri, defaultDevice string) (*keyRef, error) {
	u, err := keyuri.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("tpm: %w", err)
	}
	if u.Scheme != "tpm" {
		return nil, fmt.Errorf("tpm: scheme %q is not served by this backend (want tpm:): %w", u.Scheme, plugins.ErrInvalidKeyURI)
	}
	ref := &keyRef{device: defaultDevice}
	if h, ok := u.PathAttr("handle"); ok {
		v, err := keyuri.PersistentHandle(h)
		if err != nil {
			return nil, fmt.Errorf("tpm: %w", err)
		}
		ref.handle = tpm2.TPMHandle(v)
	}
	ref.file, _ = u.PathAttr("file")
	if dev, ok := u.QueryAttr("device"); ok && dev != "" {
		ref.device = dev
	}
	if s, ok := u.QueryAttr("pcrs"); ok {
		sel, err := pcrs.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("tpm: pcrs=: %v: %w", err, plugins.ErrInvalidKeyURI)
		}
		ref.pcrs = sel
	}
	return ref, nil
}

// checkPassword refuses, before the TPM sees it, a password the TPM cannot hold: sending
// it would only cost a try towards dictionary-attack lockout.
func checkPassword(ref *keyRef, pin string) error {
	if len(pin) > maxAuthSize {
		return fmt.Errorf("tpm: %s: wrong password for the TPM key (longer than the %d bytes a TPM key password can have): %w",
			ref, maxAuthSize, plugins.ErrPINIncorrect)
	}
	return nil
}

func checkImport(ref *keyRef, pin string, material []byte) error {
	if len(pin) > maxAuthSize {
		return fmt.Errorf("tpm: import %s: a TPM key password has at most %d bytes, this one has %d: %w",
			ref, maxAuthSize, len(pin), plugins.ErrUnsupported)
	}
	if len(material) == 0 || len(material) > maxSensitiveData {
		return fmt.Errorf("tpm: import %s: key material must have 1 to %d bytes, not %d: %w",
			ref, maxSensitiveData, len(material), plugins.ErrUnsupported)
	}
	if ref.file == "" && (ref.handle < firstOwnerPersistent || ref.handle > lastOwnerPersistent) {
		return fmt.Errorf("tpm: import %s: not an owner persistent handle (0x81000000 to 0x817fffff): %w",
			ref, plugins.ErrInvalidKeyURI)
	}
	return nil
}
