//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package flock

import "os"

func openLockFile(string) (*os.File, error) { return nil, ErrUnsupported }
func tryLock(*os.File) (bool, error)        { return false, ErrUnsupported }
func unlock(*os.File) error                 { return ErrUnsupported }
func waitShared(*os.File) error             { return ErrUnsupported }
