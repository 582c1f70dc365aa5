package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/awskeep/awskeep/core/cache"
)

// checkCache checks that the credential cache directory is private to the user, as the
// cache itself requires before it stores anything there. It creates nothing.
func (s *state) checkCache() Result {
	if s.in.NoCache {
		return skip("--no-cache")
	}
	dir, err := cache.DirFrom(s.in.Getenv)
	if err != nil {
		return fail(err.Error(), "set XDG_CACHE_HOME or HOME, or use --no-cache")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ok("%s does not exist yet; it will be created 0700", dir)
	case err != nil:
		return fail(fmt.Sprintf("cannot inspect %s: %v", dir, err), "make its parent directory accessible to you, or set XDG_CACHE_HOME")
	case !fi.IsDir():
		return fail(dir+" is not a directory", "remove it (rm "+dir+"), or set XDG_CACHE_HOME to another directory")
	}
	uid := s.in.Getuid()
	if o, known := owner(fi); known && o != uid {
		return fail(fmt.Sprintf("%s belongs to uid %d, not to you (uid %d)", dir, o, uid),
			"remove it (it is recreated 0700), or set XDG_CACHE_HOME to a directory you own")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fail(fmt.Sprintf("%s has mode %04o, open to group or others", dir, perm), "chmod 700 "+dir)
	}
	return ok("%s is private (mode %04o)", dir, fi.Mode().Perm())
}
