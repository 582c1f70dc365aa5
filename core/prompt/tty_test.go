//go:build linux

package prompt_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/awskeep/awskeep/core/prompt"
)

// waitLimit bounds every wait so a broken prompt fails the test instead of hanging it.
const waitLimit = 10 * time.Second

// terminal is a pty pair: the prompt opens the slave by name, the test types on the master
// and reads there what the user would see.
type terminal struct {
	master, slave *os.File
	done          chan struct{}

	mu  sync.Mutex
	out []byte
}

func newTerminal(t *testing.T) *terminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	tm := &terminal{master: master, slave: slave, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			tm.mu.Lock()
			tm.out = append(tm.out, buf[:n]...)
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		// With the last slave descriptor closed the master's read fails with EIO, which
		// ends the reader.
		_ = slave.Close()
		select {
		case <-tm.done:
		case <-time.After(waitLimit):
			t.Error("pty reader did not stop")
		}
		_ = master.Close()
	})
	return tm
}

func (tm *terminal) tty() prompt.TTY { return prompt.TTY{Path: tm.slave.Name()} }

func (tm *terminal) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return string(tm.out)
}

// waitFor waits until the user's screen shows s and returns all output so far.
func (tm *terminal) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out := tm.output()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q; it shows %q", s, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitForCount waits until the screen shows s at least n times and returns all output so far.
func (tm *terminal) waitForCount(t *testing.T, s string, n int) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out := tm.output()
		if strings.Count(out, s) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q %d times; it shows %q", s, n, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tm *terminal) typeText(t *testing.T, s string) {
	t.Helper()
	if _, err := tm.master.Write([]byte(s)); err != nil {
		t.Fatalf("type on master: %v", err)
	}
}

func (tm *terminal) echo(t *testing.T) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tm.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("TCGETS on slave: %v", err)
	}
	return tio.Lflag&unix.ECHO != 0
}

type result struct {
	s   string
	n   int
	err error
}

func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitLimit):
		t.Fatal("prompt did not return")
		return result{}
	}
}

// settle waits for the goroutine count to fall back to base, so a prompt that left a
// goroutine behind fails.
func settle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAsk(t *testing.T) {
	tests := []struct {
		name     string
		ask      func(prompt.TTY, context.Context, string) (string, error)
		secret   bool
		question string
		typed    string
		want     string
		screen   string // all the user sees, after ONLCR turns "\n" into "\r\n"
	}{
		{
			name:     "secret is not echoed",
			ask:      prompt.TTY.Secret,
			secret:   true,
			question: "PIN for pkcs11:token=aws;object=prod: ",
			typed:    "s3cret-pin\n",
			want:     "s3cret-pin",
			screen:   "PIN for pkcs11:token=aws;object=prod: \r\n",
		},
		{
			name:     "secret crlf and spaces kept",
			ask:      prompt.TTY.Secret,
			secret:   true,
			question: "Password: ",
			typed:    " pass word \r\n",
			want:     " pass word ",
			screen:   "Password: \r\n",
		},
		{
			name:     "empty secret",
			ask:      prompt.TTY.Secret,
			secret:   true,
			question: "PIN: ",
			typed:    "\n",
			want:     "",
			screen:   "PIN: \r\n",
		},
		{
			name:     "line is echoed",
			ask:      prompt.TTY.Line,
			question: "MFA code for arn:aws:iam::123456789012:mfa/alice: ",
			typed:    "123456\n",
			want:     "123456",
			screen:   "MFA code for arn:aws:iam::123456789012:mfa/alice: 123456\r\n",
		},
		{
			name:     "empty line",
			ask:      prompt.TTY.Line,
			question: "Name: ",
			typed:    "\n",
			want:     "",
			screen:   "Name: \r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTerminal(t)
			ch := make(chan result, 1)
			go func() {
				s, err := tt.ask(tm.tty(), context.Background(), tt.question)
				ch <- result{s: s, err: err}
			}()
			tm.waitFor(t, tt.question)
			if tt.secret && tm.echo(t) {
				t.Error("echo is on while a secret is asked")
			}
			// Type only once the question shows: the line discipline echoes on receipt.
			tm.typeText(t, tt.typed)
			r := await(t, ch)
			if r.err != nil {
				t.Fatalf("ask: %v", r.err)
			}
			if r.s != tt.want {
				t.Errorf("answer = %q, want %q", r.s, tt.want)
			}
			// Anything echoed was queued before the prompt's own final output, so once
			// the whole expected screen is there, any echo would be too.
			if got := tm.waitFor(t, tt.screen); got != tt.screen {
				t.Errorf("screen = %q, want %q", got, tt.screen)
			}
			if !tm.echo(t) {
				t.Error("echo not restored")
			}
		})
	}
}

func TestChoose(t *testing.T) {
	options := []string{"arn:aws:iam::111111111111:role/admin", "arn:aws:iam::222222222222:role/read\x1b[2J"}
	tests := []struct {
		name    string
		typed   string
		want    int
		wantErr error
		retries int // how many times "not one of the numbers" is shown
	}{
		{name: "valid", typed: "2\n", want: 1},
		{name: "spaces around number", typed: " 1 \n", want: 0},
		{name: "invalid then valid", typed: "7\n1\n", want: 0, retries: 1},
		{name: "two invalid then valid", typed: "0\nadmin\n2\n", want: 1, retries: 2},
		{name: "three invalid", typed: "0\nhunter2\n3\n1\n", want: -1, wantErr: prompt.ErrInvalidChoice, retries: 2},
		{name: "empty answers", typed: "\n\n\n", want: -1, wantErr: prompt.ErrInvalidChoice, retries: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTerminal(t)
			ch := make(chan result, 1)
			go func() {
				n, err := tm.tty().Choose(context.Background(), "Role for profile prod:", options)
				ch <- result{n: n, err: err}
			}()
			tm.waitFor(t, "Enter a number from 1 to 2: ")
			tm.typeText(t, tt.typed)
			r := await(t, ch)
			if !errors.Is(r.err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", r.err, tt.wantErr)
			}
			if r.err != nil && strings.Contains(r.err.Error(), "hunter2") {
				t.Errorf("error %q repeats the answer", r.err)
			}
			if r.n != tt.want {
				t.Errorf("choice = %d, want %d", r.n, tt.want)
			}
			// Every answer read was preceded by a prompt; once all are on the screen, so
			// is every "not one of the numbers" written between them.
			out := tm.waitForCount(t, "Enter a number from 1 to 2: ", tt.retries+1)
			for _, want := range []string{
				"Role for profile prod:\r\n",
				"  1) arn:aws:iam::111111111111:role/admin\r\n",
				"  2) arn:aws:iam::222222222222:role/read?[2J\r\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("screen %q lacks %q", out, want)
				}
			}
			if got := strings.Count(out, "not one of the numbers"); got != tt.retries {
				t.Errorf("re-asked %d times, want %d", got, tt.retries)
			}
		})
	}
}

func TestChooseNoOptions(t *testing.T) {
	n, err := prompt.TTY{Path: "/nonexistent/tty"}.Choose(context.Background(), "Role:", nil)
	if err == nil || errors.Is(err, prompt.ErrNoTerminal) || n != -1 {
		t.Errorf("Choose(no options) = %d, %v; want -1 and an error about the options", n, err)
	}
}

// askers runs each Prompter method, so cancellation and missing terminals are checked on all.
var askers = []struct {
	name string
	ask  func(context.Context, prompt.Prompter) error
}{
	{"Secret", func(ctx context.Context, p prompt.Prompter) error { _, err := p.Secret(ctx, "PIN: "); return err }},
	{"Line", func(ctx context.Context, p prompt.Prompter) error { _, err := p.Line(ctx, "Code: "); return err }},
	{"Choose", func(ctx context.Context, p prompt.Prompter) error {
		_, err := p.Choose(ctx, "Role:", []string{"a", "b"})
		return err
	}},
}

func TestCancel(t *testing.T) {
	for _, a := range askers {
		for _, c := range []struct {
			name string
			ctx  func() (context.Context, context.CancelFunc)
			want error
		}{
			{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
			{"deadline", func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			}, context.DeadlineExceeded},
		} {
			t.Run(a.name+"/"+c.name, func(t *testing.T) {
				tm := newTerminal(t)
				base := runtime.NumGoroutine()
				ctx, cancel := c.ctx()
				defer cancel()
				ch := make(chan result, 1)
				go func() { ch <- result{err: a.ask(ctx, tm.tty())} }()
				tm.waitFor(t, ": ")
				if a.name == "Secret" && tm.echo(t) {
					t.Error("echo is on while a secret is asked")
				}
				if c.want == context.Canceled {
					cancel()
				}
				r := await(t, ch)
				if !errors.Is(r.err, c.want) {
					t.Fatalf("err = %v, want %v", r.err, c.want)
				}
				if !tm.echo(t) {
					t.Error("echo not restored")
				}
				settle(t, base)

				// The terminal is free and usable again.
				go func() {
					s, err := tm.tty().Line(context.Background(), "Again? ")
					ch <- result{s: s, err: err}
				}()
				tm.waitFor(t, "Again? ")
				tm.typeText(t, "yes\n")
				if r := await(t, ch); r.err != nil || r.s != "yes" {
					t.Errorf("next prompt = %q, %v", r.s, r.err)
				}
			})
		}
	}
}

func TestCancelledBeforeAsking(t *testing.T) {
	tm := newTerminal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tm.tty().Secret(ctx, "PIN: "); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if out := tm.output(); out != "" {
		t.Errorf("cancelled prompt wrote %q", out)
	}
}

// TestOneAtATime checks that a second prompt waits for the first, and that waiting for the
// terminal ends with the caller's context.
func TestOneAtATime(t *testing.T) {
	tm := newTerminal(t)
	first, second := make(chan result, 1), make(chan result, 1)
	go func() {
		s, err := tm.tty().Line(context.Background(), "first? ")
		first <- result{s: s, err: err}
	}()
	tm.waitFor(t, "first? ")

	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan result, 1)
	go func() {
		_, err := tm.tty().Secret(ctx, "never? ")
		waiting <- result{err: err}
	}()
	go func() {
		s, err := tm.tty().Line(context.Background(), "second? ")
		second <- result{s: s, err: err}
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if r := await(t, waiting); !errors.Is(r.err, context.Canceled) {
		t.Errorf("waiting prompt err = %v, want context.Canceled", r.err)
	}
	if out := tm.output(); strings.Contains(out, "second? ") || strings.Contains(out, "never? ") {
		t.Fatalf("second prompt interleaved: %q", out)
	}
	tm.typeText(t, "one\n")
	if r := await(t, first); r.err != nil || r.s != "one" {
		t.Errorf("first = %q, %v", r.s, r.err)
	}
	tm.waitFor(t, "second? ")
	tm.typeText(t, "two\n")
	if r := await(t, second); r.err != nil || r.s != "two" {
		t.Errorf("second = %q, %v", r.s, r.err)
	}
	if out := tm.output(); strings.Contains(out, "never? ") {
		t.Errorf("cancelled prompt asked anyway: %q", out)
	}
}

func TestNoTerminal(t *testing.T) {
	notTTY := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notTTY, []byte("123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nonexistent/tty", notTTY} {
		for _, a := range askers {
			t.Run(a.name+path, func(t *testing.T) {
				err := a.ask(context.Background(), prompt.TTY{Path: path})
				if !errors.Is(err, prompt.ErrNoTerminal) {
					t.Fatalf("err = %v, want ErrNoTerminal", err)
				}
			})
		}
	}
}

func TestRequired(t *testing.T) {
	_, err := prompt.TTY{Path: "/nonexistent/tty"}.Secret(context.Background(), "PIN: ")
	err = prompt.Required(err, "the PIN for pkcs11:token=aws", "pin-source in the key URI or $AWSKEEP_PIN")
	const want = "cannot ask for the PIN for pkcs11:token=aws: no terminal; set pin-source in the key URI or $AWSKEEP_PIN"
	if err == nil || err.Error() != want {
		t.Errorf("Required = %v, want %q", err, want)
	}
	var nt *prompt.NoTerminalError
	if !errors.As(err, &nt) || nt.Setting != "pin-source in the key URI or $AWSKEEP_PIN" {
		t.Errorf("Required = %#v, want a *NoTerminalError", err)
	}
	if !errors.Is(err, prompt.ErrNoTerminal) {
		t.Error("Required's error is not ErrNoTerminal")
	}

	other := errors.New("device unplugged")
	if got := prompt.Required(other, "q", "s"); got != other {
		t.Errorf("Required(other) = %v, want it unchanged", got)
	}
	if got := prompt.Required(nil, "q", "s"); got != nil {
		t.Errorf("Required(nil) = %v", got)
	}
	if got := prompt.Required(context.Canceled, "q", "s"); !errors.Is(got, context.Canceled) {
		t.Errorf("Required(Canceled) = %v", got)
	}
}

const childEnv = "AWSKEEP_PROMPT_TEST_CHILD"

// TestNoControllingTerminal runs the real /dev/tty path in a child started in a new session,
// which has no controlling terminal (as under a daemon, CI or an IDE): every prompt must fail
// with ErrNoTerminal instead of waiting.
func TestNoControllingTerminal(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		for _, a := range askers {
			err := a.ask(context.Background(), prompt.TTY{})
			if !errors.Is(err, prompt.ErrNoTerminal) {
				t.Fatalf("%s: err = %v, want ErrNoTerminal", a.name, err)
			}
			t.Logf("%s: %v", a.name, err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestNoControllingTerminal$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "no terminal to ask on") {
		t.Errorf("child output lacks the no-terminal errors:\n%s", out)
	}
}
