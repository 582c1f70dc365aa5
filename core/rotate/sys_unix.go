//go:build unix

package rotate

import "syscall"

// oNoFollow refuses a symbolic link in place of the journal.
const oNoFollow = syscall.O_NOFOLLOW
