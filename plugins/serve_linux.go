package plugins

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// hardenProcess keeps a crashing plugin from leaving a core file that holds a PIN or key
// material, and other processes of the same user from reading its memory: RLIMIT_CORE 0,
// and prctl(PR_SET_DUMPABLE, 0), which also refuses ptrace and makes /proc/PID root's.
//
// It first gives the process its name back: a host executes a plugin through
// /proc/self/fd/N, which the kernel takes for the name ("N" in ps, pgrep, top). Setting it
// through /proc/self/task/PID/comm names the main thread, which is what those show, and has
// to come first: once the process is not dumpable, that file is no longer its own to write.
func hardenProcess() error {
	comm := fmt.Sprintf("/proc/self/task/%d/comm", os.Getpid())
	nameErr := os.WriteFile(comm, []byte(filepath.Base(os.Args[0])), 0)
	if nameErr != nil {
		nameErr = fmt.Errorf("set process name: %w", nameErr)
	}
	coreErr := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	if coreErr != nil {
		coreErr = fmt.Errorf("setrlimit RLIMIT_CORE 0: %w", coreErr)
	}
	dumpErr := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	if dumpErr != nil {
		dumpErr = fmt.Errorf("prctl PR_SET_DUMPABLE 0: %w", dumpErr)
	}
	return errors.Join(coreErr, dumpErr, nameErr)
}

// guardStdout keeps C libraries off the handshake pipe. go-plugin writes the handshake to
// os.Stdout and afterwards only scans that pipe in lines of up to 64 KiB; a vendor library
// that prints to file descriptor 1 could break the handshake or, once the host stops
// reading, fill the pipe and block the plugin for good. So the handshake gets a duplicate
// of the pipe, and descriptor 1 becomes a copy of stderr, which the host reads and logs.
func guardStdout() {
	handshake, err := syscall.Dup(1)
	if err != nil {
		return
	}
	if err := syscall.Dup3(2, 1, 0); err != nil {
		syscall.Close(handshake)
		return
	}
	os.Stdout = os.NewFile(uintptr(handshake), "/dev/stdout")
}
