//go:build !unix

package secretsource

import "os"

// openSecretFile refuses: who owns a file and who else may read it are checked with Unix
// modes and user ids, which this system does not have.
func openSecretFile(path string) (*os.File, error) {
	return nil, newError("", ErrInsecure, nil, "file: sources need a Unix system, where awskeep can check who may read %s", path)
}
