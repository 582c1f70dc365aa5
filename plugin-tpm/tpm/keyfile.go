package tpm

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	keyfile "github.com/foxboron/go-tpm-keyfiles"

	"github.com/awskeep/awskeep/plugins"
)

// maxKeyFileSize bounds what is read as a key file; real ones are well under 4 KiB.
const maxKeyFileSize = 64 << 10

// readKeyFile reads and decodes a TSS2 PEM key file ("-----BEGIN TSS2 PRIVATE KEY-----",
// draft-bottomley-tpm2-keys). It returns nil, nil when there is no file, and refuses files
// that are not loadable key files.
func readKeyFile(ref *keyRef) (*keyfile.TPMKey, error) {
	f, err := os.Open(ref.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, keyFileError(ref, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxKeyFileSize+1)); err != nil {
		return nil, keyFileError(ref, err)
	}
	if buf.Len() > maxKeyFileSize {
		return nil, errorf("%s: too large for a TSS2 key file: %w", ref, plugins.ErrInvalidKeyURI)
	}
	tk, err := keyfile.Decode(buf.Bytes())
	if err != nil {
		return nil, errorf("%s: not a TSS2 PRIVATE KEY file (%v): %w", ref, err, plugins.ErrInvalidKeyURI)
	}
	if !slices.Equal(tk.Keytype, keyfile.OIDLoadableKey) && !slices.Equal(tk.Keytype, keyfile.OIDOldLoadableKey) {
		return nil, errorf("%s: key type %v is not a loadable key (importable and sealed keys are not supported): %w",
			ref, tk.Keytype, plugins.ErrUnsupported)
	}
	return tk, nil
}

func keyFileError(ref *keyRef, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return errorf("%s: %v: %w", ref, err, plugins.ErrPermissionDenied)
	}
	return errorf("%s: %v: %w", ref, err, plugins.ErrDevice)
}

// writeKeyFile writes tk to ref.file with mode 0600, atomically: a reader sees the old file
// or the new one. Without overwrite it fails with ErrKeyExists if a file appeared meanwhile.
func writeKeyFile(ref *keyRef, tk *keyfile.TPMKey, overwrite bool) error {
	var pem bytes.Buffer
	if err := keyfile.Encode(&pem, tk); err != nil {
		return errorf("%s: encode key file: %v: %w", ref, err, plugins.ErrDevice)
	}
	dir := filepath.Dir(ref.file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(ref.file)+".*.tmp")
	if err != nil {
		return keyFileError(ref, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod keeps it so whatever the umask.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return keyFileError(ref, err)
	}
	if _, err := tmp.Write(pem.Bytes()); err != nil {
		tmp.Close()
		return keyFileError(ref, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return keyFileError(ref, err)
	}
	if err := tmp.Close(); err != nil {
		return keyFileError(ref, err)
	}
	if overwrite {
		err = os.Rename(tmp.Name(), ref.file)
	} else {
		// link(2) fails if the name exists: no race with another import.
		err = os.Link(tmp.Name(), ref.file)
		if errors.Is(err, fs.ErrExist) {
			return errorf("import %s: the file exists: %w", ref, plugins.ErrKeyExists)
		}
	}
	if err != nil {
		return keyFileError(ref, err)
	}
	return nil
}
