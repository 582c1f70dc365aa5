//go:build awskeep_testhooks

package rotate

import (
	"os"
	"syscall"
)

// CrashEnv names the step after which a binary built with -tags awskeep_testhooks kills
// itself with SIGKILL: TEST ONLY, so that end-to-end tests can prove that a rotation killed
// after any step leaves a working profile and is finished by the next run. Release builds
// do not have the tag, and there the variable does nothing.
const CrashEnv = "AWSKEEP_TEST_ROTATE_CRASH_AFTER"

// crashAfter kills the process, as abruptly as a power cut, after the step CrashEnv names.
func crashAfter(step string) {
	if os.Getenv(CrashEnv) == step {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL is not delivered synchronously; never go on
	}
}
