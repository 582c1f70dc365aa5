package mfa_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mfa"
)

// pathEnv is the least environment the commands need to find sleep and friends.
var pathEnv = []string{"PATH=" + os.Getenv("PATH")}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		command string
		env     []string
		want    string
		wantErr string // exact error text
		errIs   error
	}{
		{name: "code", command: "printf 123456", want: "123456"},
		{name: "trailing newline and spaces", command: `printf '  123456 \n\n'`, want: "123456"},
		{name: "echo", command: "echo 012345", want: "012345"},
		{name: "env passed exactly", command: `printf %s "$FOO"`, env: []string{"FOO=654321"}, want: "654321"},
		{name: "shell features", command: "x=98; echo ${x}7654 | tr -d '\\n'", env: pathEnv, want: "987654"},
		{name: "junk", command: "echo s3cretjunk", errIs: mfa.ErrNoCode, wantErr: "mfa_process printed no six-digit code"},
		{name: "seven digits", command: "echo 1234567", errIs: mfa.ErrNoCode},
		{name: "two codes", command: "echo 123456; echo 654321", errIs: mfa.ErrNoCode},
		{name: "nothing", command: "true", errIs: mfa.ErrNoCode},
		{name: "too much output", command: "i=0; while [ $i -lt 1000 ]; do echo 123456; i=$((i+1)); done", errIs: mfa.ErrNoCode},
		{
			name:    "exit status with stderr",
			command: "echo 123456; echo 'first line' >&2; printf 'op: not signed in \\033[31m\\n\\n' >&2; exit 3",
			wantErr: "mfa_process exited with status 3: op: not signed in ?[31m",
		},
		{name: "exit status without stderr", command: "exit 7", wantErr: "mfa_process exited with status 7"},
		{name: "command not found", command: "no-such-mfa-tool-xyz", env: pathEnv, wantErr: "mfa_process exited with status 127: "},
		{
			name:    "long stderr line cut to 200 bytes",
			command: fmt.Sprintf("printf '%%s' '%s' >&2; exit 1", strings.Repeat("é", 150)),
			wantErr: "mfa_process exited with status 1: " + strings.Repeat("é", 100),
		},
		{
			name:    "stderr line cut before a split character",
			command: fmt.Sprintf("printf '%%s' 'x%s' >&2; exit 1", strings.Repeat("é", 150)),
			wantErr: "mfa_process exited with status 1: x" + strings.Repeat("é", 99),
		},
		{name: "signal", command: "kill -9 $$", env: pathEnv, wantErr: "mfa_process stopped by signal: killed"},
		{name: "empty command", command: "  ", wantErr: "mfa_process: empty command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mfa.Run(context.Background(), tt.command, tt.env)
			if tt.wantErr == "" && tt.errIs == nil {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if got != tt.want {
					t.Errorf("code = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Run = %q, want an error", got)
			}
			if got != "" {
				t.Errorf("Run returned %q with its error", got)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("err = %v, want %v", err, tt.errIs)
			}
			if tt.wantErr != "" && !(err.Error() == tt.wantErr || strings.HasSuffix(tt.wantErr, ": ") && strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Errorf("err = %q, want %q", err, tt.wantErr)
			}
			for _, secret := range []string{"s3cretjunk", "123456"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats stdout %q", err, secret)
				}
			}
		})
	}
}

func TestRunStdinIsDevNull(t *testing.T) {
	// Reading stdin must hit end of file at once, not wait on the user's terminal.
	got, err := mfa.Run(context.Background(), `read -r x; [ -z "$x" ] && echo 111111`, nil)
	if err != nil || got != "111111" {
		t.Fatalf("Run = %q, %v", got, err)
	}
}

func TestRunDoesNotInherit(t *testing.T) {
	t.Setenv("AWSKEEP_MFA_TEST_LEAK", "999999")
	for _, env := range [][]string{nil, {}, {"OTHER=1"}} {
		got, err := mfa.Run(context.Background(), `printf %s "${AWSKEEP_MFA_TEST_LEAK:-222222}"`, env)
		if err != nil {
			t.Fatalf("Run(env %q): %v", env, err)
		}
		if got != "222222" {
			t.Errorf("Run(env %q) saw the parent's variable: %q", env, got)
		}
	}
}

// TestRunCancel checks that a command outliving its context is stopped promptly, with the
// children its shell started.
func TestRunCancel(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			pids := filepath.Join(t.TempDir(), "pids")
			// The shell waits on a background sleep, so killing the shell alone would leave
			// the sleep behind holding stdout.
			command := fmt.Sprintf(`sleep 60 & echo $$ $! > %s; wait; echo 123456`, pids)
			ctx, cancel := c.ctx()
			defer cancel()
			start := time.Now()
			got, err := mfa.Run(ctx, command, pathEnv)
			elapsed := time.Since(start)
			if !errors.Is(err, c.want) {
				t.Fatalf("Run = %q, %v; want %v", got, err, c.want)
			}
			if elapsed > 30*time.Second {
				t.Errorf("Run took %v after its context ended", elapsed)
			}
			b, err := os.ReadFile(pids)
			if err != nil {
				t.Fatalf("command did not record its pids: %v", err)
			}
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("pid %q: %v", f, err)
				}
				waitGone(t, pid)
			}
		})
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	marker := filepath.Join(t.TempDir(), "ran")
	if _, err := mfa.Run(ctx, "echo > "+marker+"; echo 123456", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("command ran after its context ended")
	}
}

// waitGone waits for pid to exit. A killed orphan is reaped by init, which in a container may
// be slow or absent, so a zombie counts as gone.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) || zombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running (kill 0: %v)", pid, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(s[i+1:], " Z")
}

func TestValid(t *testing.T) {
	for code, want := range map[string]bool{
		"123456":   true,
		"000000":   true,
		"12345":    false,
		"1234567":  false,
		"12345a":   false,
		" 123456":  false,
		"123456\n": false,
		"":         false,
		"１２３４５６":   false, // full-width digits
		"-12345":   false,
	} {
		if got := mfa.Valid(code); got != want {
			t.Errorf("Valid(%q) = %v, want %v", code, got, want)
		}
	}
}
