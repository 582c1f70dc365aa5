//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

import (
	"io/fs"
)

// supported is false where flock, O_NOFOLLOW or file owners are missing: Open fails with
// ErrUnsupported and the command runs without a cache.
const supported = false

func readEntryFile(string, int64) ([]byte, fileMeta, error) { return nil, fileMeta{}, ErrUnsupported }
func metaOf(fs.FileInfo) (fileMeta, bool)                   { return fileMeta{}, false }
func idOf(fs.FileInfo) fileID                               { return fileID{} }
func readEntryFileID(string, int64) ([]byte, fileMeta, fileID, error) {
	return nil, fileMeta{}, fileID{}, ErrUnsupported
}
