//go:build unix

package protocol

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// AskFDs is the value awskeep sets in EnvAskFDs: the first two descriptors after stdin,
// stdout and stderr (exec.Cmd.ExtraFiles).
const AskFDs = "3,4"

// OpenAskFDs opens the two descriptors EnvAskFDs names ("W,R"): w for requests, r for
// answers. They are marked close-on-exec, so the programs the helper runs (pass, gpg) do
// not inherit them and keep the exchange open after the helper is gone.
func OpenAskFDs(value string) (w, r *os.File, err error) {
	ws, rs, ok := strings.Cut(value, ",")
	wfd, err1 := strconv.Atoi(ws)
	rfd, err2 := strconv.Atoi(rs)
	if !ok || err1 != nil || err2 != nil || wfd < 3 || rfd < 3 || wfd == rfd {
		return nil, nil, fmt.Errorf("$%s is %q, not two descriptors W,R", EnvAskFDs, value)
	}
	for _, fd := range []int{wfd, rfd} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, nil, fmt.Errorf("$%s names descriptor %d: %w", EnvAskFDs, fd, err)
		}
		syscall.CloseOnExec(fd)
	}
	return os.NewFile(uintptr(wfd), "password-requests"), os.NewFile(uintptr(rfd), "password-answers"), nil
}
