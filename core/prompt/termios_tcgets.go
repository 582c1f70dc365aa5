//go:build aix || linux || solaris

package prompt

import "golang.org/x/sys/unix"

// The termios(3) ioctls: tcgetattr is TCGETS, tcsetattr(TCSANOW) is TCSETS.
const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)
