//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/sys/unix"
)

// TTY prompts on the controlling terminal. The zero value uses /dev/tty.
//
// Each call opens the terminal, asks, reads one line and closes it again, so a TTY holds no
// resources between prompts and needs no Close. Calls from different goroutines take turns.
type TTY struct {
	// Path is the terminal device to open; "" means /dev/tty. Tests point it at a pty.
	Path string
}

var _ Prompter = TTY{}

const (
	// maxLine bounds one answer in bytes, without its line end. Linux's canonical-mode line
	// buffer (N_TTY_BUF_SIZE) holds no more anyway.
	maxLine = 4096
	// maxAttempts is how many numbers Choose reads before it gives up.
	maxAttempts = 3
)

// turn serialises prompts within the process so two goroutines never interleave questions
// and answers on the terminal. It is a one-slot channel rather than a sync.Mutex so that a
// caller whose context ends while another prompt is open stops waiting.
var turn = make(chan struct{}, 1)

var errLineTooLong = fmt.Errorf("answer longer than %d bytes", maxLine)

// Secret writes question verbatim to the terminal, reads one line with echo turned off and
// returns it without its line end. Echo is switched off by clearing ECHO in the termios(3)
// local modes (ICANON and ISIG stay on, so the line is edited and Ctrl-C works as usual) and
// the saved state is restored before Secret returns, whether it succeeds, fails or its
// context ends. The answer never appears in an error.
//
// Ctrl-C still raises SIGINT; a command should turn it into a cancelled ctx
// (signal.NotifyContext) so the terminal is restored before it exits.
func (t TTY) Secret(ctx context.Context, question string) (string, error) {
	s, err := t.open(ctx)
	if err != nil {
		return "", err
	}
	defer s.close()

	quiet := *s.saved
	// Clearing ECHONL as well keeps even the newline silent; Secret writes it itself, so
	// the output is the same whatever the terminal's setting. ICANON, ISIG and ICRNL are
	// forced on, as golang.org/x/term does, so Enter ends the line even on a terminal some
	// other program left in raw mode.
	quiet.Lflag &^= unix.ECHO | unix.ECHONL
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	defer s.restore()
	if err := s.setTermios(&quiet); err != nil {
		return "", fmt.Errorf("prompt: turn off echo on %s: %w", s.f.Name(), err)
	}

	answer, err := s.ask(ctx, question)
	if err != nil {
		return "", err
	}
	// The user's Enter was not echoed; move to the next line. Failing to is cosmetic.
	_, _ = io.WriteString(s.f, "\n")
	return answer, nil
}

// Line writes question verbatim to the terminal and returns the echoed line the user types,
// without its line end.
func (t TTY) Line(ctx context.Context, question string) (string, error) {
	s, err := t.open(ctx)
	if err != nil {
		return "", err
	}
	defer s.close()
	return s.ask(ctx, question)
}

// Choose writes question, then options numbered from 1, and reads a number. It returns the
// index (from 0) of the chosen option. After an invalid number it asks again, reading at most
// three numbers in all before it fails with ErrInvalidChoice. Control characters in options
// (which may come from an IdP's SAML assertion) are shown as '?' so they cannot drive the
// terminal.
func (t TTY) Choose(ctx context.Context, question string, options []string) (int, error) {
	if len(options) == 0 {
		return -1, errors.New("prompt: choose: no options")
	}
	s, err := t.open(ctx)
	if err != nil {
		return -1, err
	}
	defer s.close()

	var b strings.Builder
	b.WriteString(question)
	if !strings.HasSuffix(question, "\n") {
		b.WriteByte('\n')
	}
	for i, o := range options {
		fmt.Fprintf(&b, "  %d) %s\n", i+1, printable(o))
	}
	if err := s.write(ctx, b.String()); err != nil {
		return -1, err
	}
	ask := fmt.Sprintf("Enter a number from 1 to %d: ", len(options))
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		answer, err := s.ask(ctx, ask)
		if err != nil {
			return -1, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(answer))
		if err == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
		if attempt < maxAttempts {
			if err := s.write(ctx, "That is not one of the numbers shown.\n"); err != nil {
				return -1, err
			}
		}
	}
	return -1, fmt.Errorf("prompt: %w after %d attempts", ErrInvalidChoice, maxAttempts)
}

// session is the terminal, open and ours for the length of one call.
type session struct {
	f     *os.File
	saved *unix.Termios // the state at open, restored by restore
	stop  func()        // ends the goroutine that watches ctx
}

func (t TTY) path() string {
	if t.Path == "" {
		return "/dev/tty"
	}
	return t.Path
}

// open waits for this process's turn at the terminal and opens it.
//
// Opening /dev/tty fails at once (ENXIO on Linux) when the process has no controlling
// terminal; other failures (ENOENT in a container without /dev/tty, EACCES, ENOTTY for a Path
// that is not a terminal) equally leave nobody to ask, so all are ErrNoTerminal. O_NONBLOCK
// keeps open itself from waiting for a modem's carrier, and lets the runtime poll the file so
// that a read can be interrupted by a deadline when ctx ends.
func (t TTY) open(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("prompt: %w", ctx.Err())
	}
	f, err := os.OpenFile(t.path(), os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		<-turn
		return nil, fmt.Errorf("prompt: %w: %w", ErrNoTerminal, err)
	}
	s := &session{f: f, stop: func() {}}
	s.saved, err = s.getTermios()
	if err != nil {
		_ = f.Close()
		<-turn
		return nil, fmt.Errorf("prompt: %w: %s: %w", ErrNoTerminal, f.Name(), err)
	}
	if done := ctx.Done(); done != nil {
		// Reads and writes go through the runtime poller, so a deadline in the past wakes
		// them; a blocked read(2) on a raw descriptor could not be cancelled.
		stop, exited := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(exited)
			select {
			case <-done:
				_ = f.SetDeadline(time.Now())
			case <-stop:
			}
		}()
		s.stop = func() { close(stop); <-exited }
	}
	return s, nil
}

// close ends the watcher, closes the terminal and gives up the turn. The watcher is waited
// for so that no goroutine outlives the call.
func (s *session) close() {
	s.stop()
	_ = s.f.Close()
	<-turn
}

// ask writes question and reads the answer line.
func (s *session) ask(ctx context.Context, question string) (string, error) {
	if err := s.write(ctx, question); err != nil {
		return "", err
	}
	line, err := readLine(s.f)
	answer := string(line)
	clear(line)
	if err != nil {
		return "", s.ioError(ctx, "read", err)
	}
	return answer, nil
}

func (s *session) write(ctx context.Context, text string) error {
	if _, err := io.WriteString(s.f, text); err != nil {
		return s.ioError(ctx, "write", err)
	}
	return nil
}

// ioError reports a failed read or write as the context's error when the context ended,
// since that is what stopped it.
func (s *session) ioError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("prompt: %w", ctxErr)
	}
	if errors.Is(err, errLineTooLong) {
		return fmt.Errorf("prompt: %w", err)
	}
	return fmt.Errorf("prompt: %s %s: %w", op, s.f.Name(), err)
}

// restore puts back the terminal state saved at open. It goes through the file's raw
// descriptor, which still works after a deadline has stopped reads.
func (s *session) restore() {
	for range 5 {
		if err := s.setTermios(s.saved); !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

func (s *session) getTermios() (*unix.Termios, error) {
	var (
		tio  *unix.Termios
		ierr error
	)
	if err := s.control(func(fd int) { tio, ierr = unix.IoctlGetTermios(fd, ioctlGetTermios) }); err != nil {
		return nil, err
	}
	return tio, ierr
}

func (s *session) setTermios(tio *unix.Termios) error {
	var ierr error
	if err := s.control(func(fd int) { ierr = unix.IoctlSetTermios(fd, ioctlSetTermios, tio) }); err != nil {
		return err
	}
	return ierr
}

// control runs fn on the descriptor without f.Fd, which would switch the file back to
// blocking mode and take its reads out of the poller's reach.
func (s *session) control(fn func(fd int)) error {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// readLine reads up to and including '\n', one byte at a time so nothing after the line is
// consumed, and returns the line without "\n" or "\r\n". A line longer than maxLine is read
// to its end and discarded (so the rest of a long secret does not reach the shell) and
// errLineTooLong returned. The caller clears the returned slice.
func readLine(r io.Reader) ([]byte, error) {
	line := make([]byte, 0, maxLine+1)
	var one [1]byte
	tooLong := false
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			c := one[0]
			one[0] = 0
			if c == '\n' {
				break
			}
			if len(line) <= maxLine {
				line = append(line, c)
			} else {
				tooLong = true
			}
			continue
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		clear(line)
		return nil, err
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if tooLong || len(line) > maxLine {
		clear(line[:cap(line)])
		return nil, errLineTooLong
	}
	return line, nil
}

// printable replaces control characters and invalid UTF-8 so text cannot move the cursor,
// change colours or retitle the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// Available reports, without asking anything, whether t can ask: nil when the terminal
// opens, an error wrapping ErrNoTerminal otherwise. Callers that will ask later, after slow
// work (starting a device), check first so that a missing terminal fails at once.
func (t TTY) Available() error {
	f, err := os.OpenFile(t.path(), os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("prompt: %w: %w", ErrNoTerminal, err)
	}
	return f.Close()
}
