//go:build !unix

package doctor

import "io/fs"

// owner does not know file owners on this system.
func owner(fs.FileInfo) (int, bool) { return 0, false }
