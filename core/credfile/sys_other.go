//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package credfile

import (
	"errors"
	"io/fs"
)

// Update needs flock, O_NOFOLLOW and file owners; elsewhere it refuses.
const supported = false

var errSymlink = errors.New("symbolic link")

type fileMeta struct {
	regular bool
	perm    fs.FileMode
	uid     int
}

func readRegular(string, int64, fs.FileMode) ([]byte, fileMeta, error) {
	return nil, fileMeta{}, ErrUnsupported
}
