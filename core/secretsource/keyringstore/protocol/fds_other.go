//go:build !unix

package protocol

import (
	"fmt"
	"os"
	"runtime"
)

// AskFDs is the value awskeep sets in EnvAskFDs.
const AskFDs = "3,4"

// OpenAskFDs fails here: inherited descriptors are a Unix feature.
func OpenAskFDs(string) (w, r *os.File, err error) {
	return nil, nil, fmt.Errorf("$%s: no inherited descriptors on %s", EnvAskFDs, runtime.GOOS)
}
