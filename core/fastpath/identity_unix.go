//go:build unix

package fastpath

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity names the file at path by device, inode, size and modification time.
func fileIdentity(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("fastpath: no file identity for %s", path)
	}
	return fmt.Sprintf("%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano()), nil
}
