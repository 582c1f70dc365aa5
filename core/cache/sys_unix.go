//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

const supported = true

// readEntryFile reads a whole entry file in four system calls (open, fstat, read, close):
// this is the cache-hit path. O_NOFOLLOW refuses a symbolic link planted in the
// directory; O_NONBLOCK keeps a FIFO in its place from blocking the open forever. The
// metadata comes from the open descriptor, so it describes the file actually read; the
// data is returned only for a regular file of at most max bytes.
func readEntryFile(path string, max int64) ([]byte, fileMeta, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		// Linux and macOS say ELOOP for a symbolic link under O_NOFOLLOW, FreeBSD EMLINK.
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
			return nil, fileMeta{}, errSymlink
		}
		return nil, fileMeta{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fileMeta{}, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	m := fileMeta{
		regular: uint32(st.Mode)&syscall.S_IFMT == syscall.S_IFREG,
		perm:    fs.FileMode(st.Mode & 0o777),
		uid:     int(st.Uid),
		size:    st.Size,
	}
	if !m.regular || m.size > max {
		return nil, m, nil
	}
	// One byte more than the size, to notice a file that grew since fstat.
	buf := make([]byte, m.size+1)
	var n int
	for {
		n, err = syscall.Read(fd, buf)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, m, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(n) != m.size {
		return nil, m, errors.New("changed while being read")
	}
	return buf[:n], m, nil
}

// metaOf extracts the fields the cache checks from a FileInfo.
func metaOf(fi fs.FileInfo) (fileMeta, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileMeta{}, false
	}
	return fileMeta{regular: fi.Mode().IsRegular(), perm: fi.Mode().Perm(), uid: int(st.Uid), size: fi.Size()}, true
}

// idOf is the identity of the file fi describes: device, inode, size and modification
// time, as the C front compares them (see answer.go).
func idOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtimeNS: fi.ModTime().UnixNano()}
}

// readEntryFileID is readEntryFile that also returns the identity of the file it read.
func readEntryFileID(path string, max int64) ([]byte, fileMeta, fileID, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fileMeta{}, fileID{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileMeta{}, fileID{}, err
	}
	m, ok := metaOf(fi)
	if !ok {
		return nil, fileMeta{}, fileID{}, ErrUnsupported
	}
	if !m.regular || m.size > max {
		return nil, m, fileID{}, fmt.Errorf("not a regular file of at most %d bytes", max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, m, fileID{}, err
	}
	if int64(len(data)) != m.size {
		return nil, m, fileID{}, errors.New("changed while being read")
	}
	return data, m, idOf(fi), nil
}
