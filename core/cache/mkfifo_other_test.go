//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

func mkfifo(string) error { return ErrUnsupported }
