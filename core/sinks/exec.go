package sinks

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/harden"
)

// ErrNested means awskeep exec was asked to run inside a process that awskeep exec started.
var ErrNested = errors.New("already inside awskeep exec")

// ExecInput is what Exec runs.
type ExecInput struct {
	// Argv is the command and its arguments; Argv[0] is looked up in PATH.
	Argv []string
	// Environ is awskeep's own environment; the child gets it cleaned (CleanEnv) plus the
	// credentials (Variables) and ProfileEnv.
	Environ []string
	// Credentials and Region go into the child's environment.
	Credentials creds.Credentials
	Region      string
	// Endpoint, when set, replaces the credentials: the child gets these variables (a
	// local credentials endpoint and its token, see package server) and never the
	// credentials themselves.
	Endpoint []Variable
	// Profile is the value of ProfileEnv in the child.
	Profile string
	// AllowNested runs the child even when Environ shows awskeep exec already ran.
	AllowNested bool
	// Stdin, Stdout and Stderr are the child's; nil means the null device.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// forwarded are the signals a child of exec receives when awskeep receives them.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Exec runs in.Argv with the credentials in its environment, forwards signals to it and
// returns its exit status (128+N when signal N ended it, as shells report it). awskeep's
// own inputs (the PIN, credentials and profile variables) are removed from the child's
// environment.
//
// SIGINT and SIGQUIT typed at the terminal reach every process of the foreground process
// group, the child included; they are forwarded only when awskeep is not in the terminal's
// foreground group, so a child never sees one keypress twice.
func Exec(in ExecInput) (int, error) {
	if len(in.Argv) == 0 {
		return 0, errors.New("no command to run")
	}
	if err := CheckNested(in.Environ, in.AllowNested); err != nil {
		return 0, err
	}
	path, err := exec.LookPath(in.Argv[0])
	if err != nil {
		return 0, fmt.Errorf("command %s: %w", in.Argv[0], err)
	}
	env := CleanEnv(in.Environ)
	env = removeVar(env, ProfileEnv)
	vars := Variables(in.Credentials, in.Region)
	if in.Endpoint != nil {
		vars = in.Endpoint
		if in.Region != "" {
			vars = append(vars, Variable{"AWS_REGION", in.Region}, Variable{"AWS_DEFAULT_REGION", in.Region})
		}
	}
	for _, v := range vars {
		env = removeVar(env, v.Name)
		env = append(env, v.Name+"="+v.Value)
	}
	env = append(env, ProfileEnv+"="+in.Profile)

	cmd := exec.Command(path, in.Argv[1:]...)
	cmd.Args[0] = in.Argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in.Stdin, in.Stdout, in.Stderr

	signals := make(chan os.Signal, 8)
	signal.Notify(signals, forwarded...)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", in.Argv[0], err)
	}
	// awskeep runs with a core limit of 0 (package harden); the user's program gets the
	// limit the user had. Best effort: the program runs either way.
	_ = harden.RestoreChild(cmd.Process.Pid)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-signals:
				if (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && inForegroundGroup() {
					continue
				}
				_ = cmd.Process.Signal(sig)
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", in.Argv[0], err)
	}
	return 0, nil
}

// CheckNested returns ErrNested when environ shows a process started by awskeep exec and
// allow is false.
func CheckNested(environ []string, allow bool) error {
	if v, ok := lookup(environ, ProfileEnv); ok && !allow {
		return fmt.Errorf("%w (profile %q): its credentials would shadow the profile's; unset %s or pass --allow-nested", ErrNested, v, ProfileEnv)
	}
	return nil
}

// inForegroundGroup reports whether this process belongs to its controlling terminal's
// foreground process group (then the terminal signals the child too).
func inForegroundGroup() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == syscall.Getpgrp()
}

func removeVar(environ []string, name string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			continue
		}
		out = append(out, kv)
	}
	return out
}
