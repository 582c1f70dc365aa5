package plugins

import (
	"bytes"
	"regexp"
	"sync"
	"syscall"
)

var signalNames = map[syscall.Signal]string{
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
	syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGILL: "SIGILL",
	syscall.SIGFPE: "SIGFPE", syscall.SIGINT: "SIGINT",
}

func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return s.String()
}

// fatalSignal matches the Go runtime's report of a fatal signal, which is all a host sees of
// a crash in a plugin's C library: the runtime catches SIGSEGV, SIGBUS and SIGABRT, prints
// "[signal SIGSEGV: segmentation violation ...]" or "SIGABRT: abort" and exits with status 2.
var fatalSignal = regexp.MustCompile(`^\[?signal (SIG[A-Z]+)|^(SIG[A-Z]+): `)

// signalWatcher receives the plugin's stderr lines and remembers the first fatal signal.
type signalWatcher struct {
	mu   sync.Mutex
	name string
}

func (w *signalWatcher) Write(line []byte) (int, error) {
	if m := fatalSignal.FindSubmatch(bytes.TrimSpace(line)); m != nil {
		w.mu.Lock()
		if w.name == "" {
			w.name = string(append(m[1], m[2]...))
		}
		w.mu.Unlock()
	}
	return len(line), nil
}

func (w *signalWatcher) signal() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.name
}
