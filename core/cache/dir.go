package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultDir returns $XDG_CACHE_HOME/awskeep, or ~/.cache/awskeep when XDG_CACHE_HOME is
// unset or relative (the XDG Base Directory specification says to ignore relative paths).
// It only computes the path; Open creates the directory.
func DefaultDir() (string, error) { return DirFrom(os.Getenv) }

// DirFrom is DefaultDir with the environment read through getenv, for callers that run
// with an environment of their own.
func DirFrom(getenv func(string) string) (string, error) {
	if x := getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "awskeep"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("cache: find the cache directory: neither XDG_CACHE_HOME nor HOME is set; set one or pass --no-cache")
	}
	return filepath.Join(home, ".cache", "awskeep"), nil
}

// ensureDir creates dir (and missing parents) with mode 0700 and checks that an existing
// one is private to uid: the directory holds secrets, so group and others must not be able
// to list, read or plant files in it.
func ensureDir(dir string, uid int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache: create directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return checkDir(dir, fi, uid)
}

// fileMeta is what the cache checks about a file: its type, permission bits, owner, size.
type fileMeta struct {
	regular bool
	perm    fs.FileMode
	uid     int
	size    int64
}

// errSymlink is the reason a symbolic link in place of an entry is not followed.
var errSymlink = errors.New("is a symbolic link")

// checkDir refuses a cache directory that is not a directory, not owned by uid, or
// accessible by group or others, and says how to fix it.
func checkDir(dir string, fi fs.FileInfo, uid int) error {
	if !fi.IsDir() {
		return fmt.Errorf("cache: %s is not a directory; remove it or choose another cache directory", dir)
	}
	m, ok := metaOf(fi)
	if !ok {
		return fmt.Errorf("cache: directory %s: cannot read its owner: %w", dir, ErrUnsupported)
	}
	if m.uid != uid {
		return fmt.Errorf("cache: directory %s is owned by uid %d, not by you (uid %d); remove it, or set XDG_CACHE_HOME to a directory you own: %w",
			dir, m.uid, uid, ErrInsecureDir)
	}
	if m.perm&0o077 != 0 {
		return fmt.Errorf("cache: directory %s has mode %04o, open to group or others; run: chmod 700 %s: %w",
			dir, m.perm, dir, ErrInsecureDir)
	}
	return nil
}

// checkEntryFile says why an entry file cannot be trusted, or nil. A file another user
// owns or could read may have been planted or already leaked; either way it is not used.
func checkEntryFile(m fileMeta, uid int) error {
	switch {
	case !m.regular:
		return errors.New("not a regular file")
	case m.uid != uid:
		return fmt.Errorf("owned by uid %d, not %d", m.uid, uid)
	case m.perm&0o077 != 0:
		return fmt.Errorf("mode %04o, want 0600", m.perm)
	case m.size > maxEntrySize:
		return fmt.Errorf("larger than %d bytes", maxEntrySize)
	}
	return nil
}
