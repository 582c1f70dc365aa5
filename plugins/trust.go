package plugins

import (
	"os"

	"github.com/awskeep/awskeep/plugins/trust"
)

// UnsafeFileError says why OpenTrusted (and so Launch) refused a file; see
// trust.UnsafeFileError.
type UnsafeFileError = trust.UnsafeFileError

// OpenTrusted opens the file at path for reading once nothing shows that anyone but root
// and the current user could have chosen what it holds; see trust.Open, which it is.
func OpenTrusted(path string) (*os.File, error) { return trust.Open(path) }
