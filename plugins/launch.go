package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// LaunchOptions modify Launch.
type LaunchOptions struct {
	// StartTimeout bounds the start of the plugin up to its handshake; a plugin that has not
	// answered by then, or by ctx's deadline if that comes first, is killed. Default 10s.
	StartTimeout time.Duration
	// SHA256, when set, is the checksum the binary must have. Launch computes it over the
	// open file that it then executes, so a file swapped in afterwards cannot run.
	SHA256 []byte
	// Env is added to the plugin's environment as given, after the host's variables that
	// plugins may see (later entries win): for variables the host's own code means to pass,
	// such as a test's controls. The host's other variables never reach the plugin; see
	// Launch.
	Env []string
	// Logger receives the plugin's log lines (its stderr). Default: discarded.
	Logger hclog.Logger
}

// Plugin is a running plugin process. It is a Backend; Close ends the process.
type Plugin struct {
	Backend
	client *plugin.Client
	proc   *process
	name   string
	stderr signalWatcher

	closeOnce sync.Once
}

// closeGrace is how long Close lets go-plugin's graceful shutdown run before it kills the
// plugin; killWait how long Launch and Close then wait for go-plugin to wind down.
const (
	closeGrace = 2 * time.Second
	killWait   = time.Second
)

// Launch starts the plugin binary at path and returns it once it has answered the go-plugin
// handshake: protocol version negotiated and the gRPC connection open on a channel only
// the two processes can use (on Linux a unix socket in a private directory whose ends
// check each other's process id, see channel_linux.go; elsewhere go-plugin's AutoMTLS).
//
// Launch opens the binary once (OpenTrusted: it and every directory on the way to it,
// symlinks resolved, writable by no one but root and the current user), checks that it is
// executable and, with LaunchOptions.SHA256, its checksum, all on the open file, and then
// executes that very file (/proc/self/fd/N, on Linux only), never its name: replacing the
// file or a symlink after the checks changes nothing. An interpreter script cannot be a
// plugin this way; plugins are binaries.
//
// The plugin's environment is not the host's: it gets PATH, HOME, USER, LOGNAME, TMPDIR,
// LANG, LC_*, TZ, the configuration variables of the vendor libraries awskeep's plugins
// load (SOFTHSM2_CONF, TSS2_*, TPM2TOOLS_*, TCTI, YUBIHSM_*), the variables named in the
// host's $AWSKEEP_PLUGIN_ENV (PluginEnvVar), and LaunchOptions.Env; never $AWSKEEP_PIN or
// AWS credentials, even when asked for.
//
// Every wait is bounded. A plugin that has not answered the handshake when ctx ends or
// StartTimeout passes is killed (SIGKILL, with its process group) and reaped. The process
// ends on Close, or when the host process dies.
func Launch(ctx context.Context, path string, optFns ...func(*LaunchOptions)) (*Plugin, error) {
	opts := LaunchOptions{StartTimeout: 10 * time.Second}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	name := strings.TrimPrefix(filepath.Base(path), "awskeep-plugin-")
	limit := opts.StartTimeout
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < limit {
		limit = time.Until(deadline)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start plugin %s: %w: %w", name, ErrPluginUnavailable, err)
	}

	exe, err := openPlugin(path, opts.SHA256)
	if err != nil {
		return nil, fmt.Errorf("start plugin %s: %w", name, err)
	}
	proc, err := newProcess(exe, path, pluginEnv(os.Environ(), opts.Env))
	if err != nil {
		exe.Close()
		return nil, fmt.Errorf("start plugin %s: %w", name, err)
	}
	defer proc.release()
	p := &Plugin{proc: proc, name: name}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(nil),
		RunnerFunc:       proc.runner,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         autoMTLS,
		GRPCDialOptions:  hostDialOptions(proc.Pid),
		// Without this, go-plugin appends the host's whole environment to the plugin's.
		SkipHostEnv: true,
		// Launch's own timer ends a start that takes longer than limit, and kills the
		// plugin; go-plugin's is only a backstop.
		StartTimeout: limit + time.Minute,
		Logger:       opts.Logger,
		SyncStdout:   io.Discard,
		SyncStderr:   io.Discard,
		Stderr:       &p.stderr,
	})
	p.client = client

	type result struct {
		b   Backend
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := dispense(client)
		done <- result{b, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var cause error
	select {
	case r := <-done:
		if r.err != nil {
			p.Close()
			return nil, p.explain("start", r.err)
		}
		if c, ok := r.b.(*grpcClient); ok {
			c.plugin = name
		}
		opts.Logger.Debug("plugin channel", "security", channelName)
		p.Backend = r.b
		return p, nil
	case <-ctx.Done():
		cause = ctx.Err()
	case <-timer.C:
		cause = context.DeadlineExceeded
	}
	// Killed now, not by go-plugin's Kill: that waits for go-plugin's start to give up first.
	proc.kill()
	select {
	case <-done:
	case <-time.After(killWait):
	}
	p.Close()
	if errors.Is(cause, context.Canceled) {
		return nil, fmt.Errorf("start plugin %s: cancelled; killed: %w: %w", name, ErrPluginUnavailable, cause)
	}
	return nil, fmt.Errorf("start plugin %s: did not start within %s; killed: %w: %w", name, roundDuration(limit), ErrPluginUnavailable, cause)
}

// openPlugin opens the binary at path with OpenTrusted and checks, on the open file, that
// it is executable and, when sum is set, that its sha256 is sum.
func openPlugin(path string, sum []byte) (*os.File, error) {
	f, err := OpenTrusted(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrPluginUnavailable)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm()&0o111 == 0 {
		err = &UnsafeFileError{Path: f.Name(), Problem: "is not executable", Fix: "chmod u+x " + f.Name()}
	}
	if err == nil && sum != nil {
		h := sha256.New()
		if _, err = io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err == nil && !bytes.Equal(h.Sum(nil), sum) {
			f.Close()
			return nil, fmt.Errorf("checksum does not match the pinned one (re-pin after an intended upgrade): %w: %w",
				ErrPluginUnavailable, ErrChecksumMismatch)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", err, ErrPluginUnavailable)
	}
	return f, nil
}

// roundDuration shows a start limit as a user set it: --timeout 3s leaves a little less
// than 3s for the plugin, which is still "3s".
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func dispense(client *plugin.Client) (Backend, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	if v := client.NegotiatedVersion(); v != int(Handshake.ProtocolVersion) {
		return nil, fmt.Errorf("plugin speaks protocol %d, this host speaks %d", v, Handshake.ProtocolVersion)
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		return nil, err
	}
	b, ok := raw.(Backend)
	if !ok {
		return nil, errors.New("plugin did not return a backend")
	}
	return b, nil
}

// ListKeys asks the plugin to list the keys on a device (see KeyLister). A plugin without
// the operation, or built before protocol 1.3, answers ErrUnsupported.
func (p *Plugin) ListKeys(ctx context.Context, key Key) ([]KeyEntry, error) {
	return ListKeys(ctx, p.Backend, key)
}

// AuditLog asks the plugin for the device's audit log (see AuditLogReader). A plugin
// without the operation, or built before protocol 1.3, answers ErrUnsupported.
func (p *Plugin) AuditLog(ctx context.Context, key Key, req AuditLogRequest) (AuditLogResult, error) {
	return ReadAuditLog(ctx, p.Backend, key, req)
}

// Name is the plugin's name, from its file name (awskeep-plugin-NAME).
func (p *Plugin) Name() string { return p.name }

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Pid is the plugin's process id.
func (p *Plugin) Pid() int { return p.proc.Pid() }

// ExitReason describes how the process ended ("SIGSEGV", "exit status 2"), or "" while it
// runs or when it is not known.
func (p *Plugin) ExitReason() string {
	if !p.client.Exited() || p.proc.cmd.ProcessState == nil {
		return ""
	}
	ws, ok := p.proc.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return signalName(ws.Signal())
	}
	if sig := p.stderr.signal(); sig != "" {
		return sig
	}
	return p.proc.cmd.ProcessState.String()
}

// waitExitReason waits up to d for the process to end and returns ExitReason.
func (p *Plugin) waitExitReason(d time.Duration) string {
	deadline := time.Now().Add(d)
	for !p.client.Exited() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return p.ExitReason()
}

// Close ends the plugin process and returns within about three seconds, whatever the
// plugin does: it asks the plugin to stop (go-plugin's graceful Kill), and if the process
// has not ended after closeGrace, which a plugin wedged in a vendor library never does,
// kills it and its process group with SIGKILL. The process is reaped.
func (p *Plugin) Close() {
	p.closeOnce.Do(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.client.Kill()
		}()
		grace := time.NewTimer(closeGrace)
		defer grace.Stop()
		select {
		case <-done:
			return
		case <-grace.C:
		}
		p.proc.kill()
		select {
		case <-done:
		case <-time.After(killWait):
		}
	})
}

// explain turns go-plugin's start errors into ErrPluginUnavailable with a reason a user can act on.
func (p *Plugin) explain(op string, err error) error {
	msg := err.Error()
	// go-plugin's start failures are told apart by their text, here at the edge, so that no
	// caller has to.
	switch {
	case strings.Contains(msg, "Failed to read any lines from plugin's stdout"),
		strings.Contains(msg, "plugin exited before we could connect"):
		msg = "exited during start"
		if r := p.waitExitReason(time.Second); r != "" {
			msg += " (" + r + ")"
		}
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		msg = "speaks another plugin protocol version than this host (1); rebuild it against this awskeep's plugins module"
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		msg = "broken handshake (the plugin printed to stdout before serving, or is not an awskeep plugin)"
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		msg = "did not answer the handshake in time"
	}
	return fmt.Errorf("%s plugin %s: %s: %w", op, p.name, msg, ErrPluginUnavailable)
}
