//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

const supported = true

// errSymlink is what readRegular returns for a symbolic link.
var errSymlink = errors.New("symbolic link")

// fileMeta is what Update checks of the file it read.
type fileMeta struct {
	regular bool
	perm    fs.FileMode
	uid     int
}

// readRegular opens path without following a symbolic link (Update resolved the link
// before taking the lock; a link appearing since is refused) and without blocking on a
// FIFO, and reads it if it is a regular file of at most max bytes, owned by the user,
// without any of the permission bits in refused (data nil otherwise). The metadata comes
// from the open descriptor.
func readRegular(path string, max int64, refused fs.FileMode) ([]byte, fileMeta, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		// Linux and macOS say ELOOP for a symbolic link under O_NOFOLLOW, FreeBSD EMLINK.
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
			return nil, fileMeta{}, errSymlink
		}
		return nil, fileMeta{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileMeta{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fileMeta{}, ErrUnsupported
	}
	m := fileMeta{regular: fi.Mode().IsRegular(), perm: fi.Mode().Perm(), uid: int(st.Uid)}
	if !m.regular || fi.Size() > max || m.perm&refused != 0 || m.uid != os.Geteuid() {
		return nil, m, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, m, err
	}
	if int64(len(data)) > max {
		return nil, m, nil
	}
	if data == nil {
		data = []byte{}
	}
	return data, m, nil
}
