//go:build unix

package secretsource

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openSecretFile opens path and checks the file it leads to. O_NONBLOCK keeps the open
// from waiting for a writer when path is a FIFO, and O_NOCTTY keeps a terminal device
// from becoming the controlling terminal; the checks then refuse both. The checks run
// on the open file (fstat), so the file checked is the file read.
func openSecretFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := checkSecretFile(path, fi); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkSecretFile applies the rules of fileSource to fi.
func checkSecretFile(path string, fi fs.FileInfo) error {
	mode := fi.Mode()
	if !mode.IsRegular() {
		return newError("", ErrInsecure, nil, "%s is not a regular file but %s", path, fileType(mode))
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return newError("", ErrInsecure, nil, "%s is open to other users (mode %04o): run chmod 600 %s", path, perm, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
			return newError("", ErrInsecure, nil, "%s belongs to uid %d, not to uid %d that runs awskeep: run chown %d %s",
				path, st.Uid, uid, uid, path)
		}
	}
	return nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return fmt.Sprintf("of type %v", m.Type())
	}
}
