package plugins

import (
	"os"
	"syscall"
)

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
