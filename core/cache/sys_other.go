//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

import (
	"io/fs"
	"os"
)

// supported is false where flock, O_NOFOLLOW or file owners are missing: Open fails with
// ErrUnsupported and the command runs without a cache.
const supported = false

func readEntryFile(string, int64) ([]byte, fileMeta, error) { return nil, fileMeta{}, ErrUnsupported }
func openLockFile(string) (*os.File, error)                 { return nil, ErrUnsupported }
func metaOf(fs.FileInfo) (fileMeta, bool)                   { return fileMeta{}, false }
func tryLock(*os.File) (bool, error)                        { return false, ErrUnsupported }
func unlock(*os.File) error                                 { return ErrUnsupported }
