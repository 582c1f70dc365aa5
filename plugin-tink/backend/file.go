package backend

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileMode is the keyset file's mode: the file is encrypted, but whoever reads it and may
// call KMS Decrypt holds the key, so only its owner reads it.
const fileMode = 0o600

// writeAtomic stores data at path as a new file of mode 0600: a temporary file in the same
// directory, written and fsynced, then moved into place and the directory fsynced, so a
// reader sees the old keyset or the new one, never a part. Without overwrite the file is
// put in place with link(2), which fails with fs.ErrExist if path exists, so two imports
// cannot both win.
func writeAtomic(path string, data []byte, overwrite bool) (err error) {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = rmErr
		}
	}()
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	name := tmp.Name()
	if overwrite {
		err = os.Rename(name, path)
	} else {
		err = os.Link(name, path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readKeysetFile reads the keyset at path and returns it with the identity of the file it
// read (fstat of the open file, so the identity and the bytes belong together).
func readKeysetFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is not a regular file", errKeysetInvalid, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeysetFile+1))
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
}

// sameFile reports whether a and b are the same version of one file: the same inode (an
// import replaces the file by rename, which gives a new one), size and modification time.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
