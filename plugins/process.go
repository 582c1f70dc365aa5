package plugins

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// process is one plugin process, started for go-plugin (it is go-plugin's runner.Runner)
// from the open file Launch checked, never by name, and killed by Launch or Close when
// go-plugin's own shutdown does not end it in time.
type process struct {
	argv0 string
	cmd   *exec.Cmd

	mu sync.Mutex
	// exe is the checked binary, open until the process has started or will never start.
	exe            *os.File
	pid            int
	stdout, stderr io.ReadCloser
}

var _ runner.Runner = (*process)(nil)

// newProcess prepares the process that executes exe, the checked binary named argv0, with
// environment env.
func newProcess(exe *os.File, argv0 string, env []string) (*process, error) {
	path, err := execPath(exe)
	if err != nil {
		return nil, err
	}
	// Stdin stays nil (/dev/null): plugins never read a terminal.
	cmd := &exec.Cmd{Path: path, Args: []string{argv0}, Env: env, SysProcAttr: sysProcAttr()}
	return &process{argv0: argv0, cmd: cmd, exe: exe}, nil
}

// runner is the go-plugin RunnerFunc: spec carries go-plugin's variables (the magic cookie,
// PLUGIN_*), which go after the plugin's own.
func (p *process) runner(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
	p.cmd.Env = append(p.cmd.Env, spec.Env...)
	return p, nil
}

// Start starts the process. The child executes /proc/self/fd/N: it resolves that name
// during execve, before the kernel closes its close-on-exec descriptors, so the checked
// file may be closed as soon as Start returns, and is.
func (p *process) Start(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exe == nil {
		return errors.New("plugin start abandoned")
	}
	defer func() {
		p.exe.Close()
		p.exe = nil
	}()
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := p.cmd.Start(); err != nil {
		return err
	}
	p.stdout, p.stderr, p.pid = stdout, stderr, p.cmd.Process.Pid
	return nil
}

// release closes the checked file if the process never started; one that has not started
// yet never will.
func (p *process) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exe != nil {
		p.exe.Close()
		p.exe = nil
	}
}

// Kill is go-plugin's last step after a graceful shutdown failed: SIGKILL to the process and
// its process group (helpers it started go too).
func (p *process) Kill(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signal()
	return nil
}

// kill is Launch's and Close's: it ends the process now, as Kill does, and also closes the
// pipes its output comes through, so that go-plugin, which reads them to the end before it
// reaps the process, cannot be held up by a descendant that escaped the process group
// with a copy of them. A process not started yet never will be.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exe != nil {
		p.exe.Close()
		p.exe = nil
	}
	if p.pid == 0 {
		return
	}
	p.signal()
	p.stdout.Close()
	p.stderr.Close()
}

// signal sends SIGKILL; p.mu is held.
func (p *process) signal() {
	if p.pid == 0 {
		return
	}
	killGroup(p.pid)
	// After Wait this is a harmless os.ErrProcessDone: os.Process never signals a reused pid.
	_ = p.cmd.Process.Kill()
}

// Pid is the process id, 0 before the start.
func (p *process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *process) Wait(context.Context) error { return p.cmd.Wait() }
func (p *process) Stdout() io.ReadCloser      { return p.stdout }
func (p *process) Stderr() io.ReadCloser      { return p.stderr }
func (p *process) Name() string               { return p.argv0 }
func (p *process) Diagnose(context.Context) string {
	return ""
}

// ID is the pid, "" before the start (go-plugin then has nothing to kill).
func (p *process) ID() string {
	if pid := p.Pid(); pid != 0 {
		return strconv.Itoa(pid)
	}
	return ""
}

// PluginToHost and HostToPlugin: the plugin shares the host's network and file system.
func (p *process) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (p *process) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
