//go:build unix

package trust

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxSymlinks bounds symlink resolution, as the kernel does (ELOOP after 40).
const maxSymlinks = 40

// Open opens the file at path for reading once nothing shows that anyone but root and
// the current user could have chosen what it holds. The rules are OpenSSH's StrictModes:
//
//   - Every directory passed through on the way to the file, from / down, is owned by root
//     or the current user and is not writable by group or others. Symlinks are resolved
//     one at a time, so this covers both the directories that hold each symlink (whoever
//     can write there can point the link elsewhere) and the whole chain of its target.
//     A directory with the sticky bit set, like /tmp (mode 1777), is accepted although
//     others may write it: there they cannot rename, remove or replace entries they do not
//     own.
//   - The file itself is a regular file, owned by root or the current user and not
//     writable by group or others. These checks are made on the open descriptor (fstat),
//     so they hold for the very file returned, whatever happens to its name afterwards.
//
// The file is opened by its resolved name without following a symlink there (O_NOFOLLOW),
// and without blocking on a FIFO. A refusal is an *UnsafeFileError (errors.Is
// ErrUnsafeFile); a missing file an error that is fs.ErrNotExist. The file's Name is the
// resolved path. The caller closes it.
func Open(path string) (*os.File, error) {
	resolved, err := resolveTrusted(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(resolved, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkTrustedFile(resolved, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// resolveTrusted resolves every symlink in path, component by component, and checks each
// directory it passes through (checkTrustedDir). The result names a file (or a directory,
// which the caller's checks refuse) reached only through trusted directories.
func resolveTrusted(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	root, err := os.Lstat("/")
	if err != nil {
		return "", err
	}
	if err := checkTrustedDir("/", root); err != nil {
		return "", err
	}
	resolved, rest, links := "/", abs, 0
	for rest != "" {
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		switch name {
		case "", ".":
			continue
		case "..":
			// resolved has no symlinks left in it, so its parent is the real parent, checked
			// on the way down.
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			// Who can change the link is decided by the directory holding it, resolved, which
			// is checked already; its own mode means nothing.
			if links++; links > maxSymlinks {
				return "", &fs.PathError{Op: "resolve", Path: path, Err: syscall.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				resolved = "/"
			}
			if rest != "" {
				target += "/" + rest
			}
			rest = target
		case fi.IsDir():
			if err := checkTrustedDir(next, fi); err != nil {
				return "", err
			}
			resolved = next
		default:
			if rest != "" {
				return "", &fs.PathError{Op: "resolve", Path: next, Err: syscall.ENOTDIR}
			}
			resolved, rest = next, ""
		}
	}
	return resolved, nil
}

// checkTrustedDir refuses a directory whose entries someone other than root and the
// current user could replace: one they own, or one group or others may write, unless the
// sticky bit keeps them to their own entries.
func checkTrustedDir(path string, fi fs.FileInfo) error {
	if err := checkOwner(path, fi, true); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return &UnsafeFileError{Path: path, Dir: true,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", perm), Fix: "chmod go-w " + path}
	}
	return nil
}

// checkTrustedFile refuses what is not a regular file, or one that someone other than root
// and the current user could write.
func checkTrustedFile(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &UnsafeFileError{Path: path, Problem: "is not a regular file"}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &UnsafeFileError{Path: path,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", perm), Fix: "chmod go-w " + path}
	}
	return checkOwner(path, fi, false)
}

func checkOwner(path string, fi fs.FileInfo, dir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &UnsafeFileError{Path: path, Dir: dir, Problem: "has no owner this system reports"}
	}
	if uid := int(st.Uid); uid != 0 && uid != os.Getuid() {
		return &UnsafeFileError{Path: path, Dir: dir, Problem: fmt.Sprintf("belongs to another user (uid %d)", uid)}
	}
	return nil
}
