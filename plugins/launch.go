package plugins

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os/exec"
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
	// StartTimeout bounds the start of the plugin up to its handshake. Default 10s.
	StartTimeout time.Duration
	// SHA256, when set, is the checksum the binary must have; a mismatch stops it from
	// starting (go-plugin SecureConfig).
	SHA256 []byte
	// Env is added to the plugin's environment (which otherwise is the host's).
	Env []string
	// Logger receives the plugin's log lines (its stderr). Default: discarded.
	Logger hclog.Logger
}

// Plugin is a running plugin process. It is a Backend; Close ends the process.
type Plugin struct {
	Backend
	client *plugin.Client
	cmd    *exec.Cmd
	name   string
	stderr signalWatcher

	closeOnce sync.Once
}

// Launch starts the plugin binary at path and returns it once it has answered the go-plugin
// handshake: protocol version negotiated, mutual TLS set up (AutoMTLS), and the gRPC
// connection open. The process ends when ctx is cancelled during start, on Close, or when
// the host process dies.
func Launch(ctx context.Context, path string, optFns ...func(*LaunchOptions)) (*Plugin, error) {
	opts := LaunchOptions{StartTimeout: 10 * time.Second}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	name := strings.TrimPrefix(filepath.Base(path), "awskeep-plugin-")

	cmd := exec.Command(path)
	cmd.Env = append(cmd.Environ(), opts.Env...)
	setDeathSignal(cmd)
	p := &Plugin{cmd: cmd, name: name}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		// cmd.Env already holds the host's environment with opts.Env after it; without
		// this, go-plugin appends the host's environment again and it overrides opts.Env.
		SkipHostEnv:  true,
		StartTimeout: opts.StartTimeout,
		Logger:       opts.Logger,
		SyncStdout:   io.Discard,
		SyncStderr:   io.Discard,
		Stderr:       &p.stderr,
	}
	if opts.SHA256 != nil {
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: opts.SHA256, Hash: sha256.New()}
	}
	client := plugin.NewClient(cfg)
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
	select {
	case r := <-done:
		if r.err != nil {
			client.Kill()
			return nil, p.explain("start", r.err)
		}
		p.Backend = r.b
		return p, nil
	case <-ctx.Done():
		client.Kill()
		<-done
		return nil, fmt.Errorf("start plugin %s: %w", name, ctx.Err())
	}
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

// Name is the plugin's name, from its file name (awskeep-plugin-NAME).
func (p *Plugin) Name() string { return p.name }

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// ExitReason describes how the process ended ("SIGSEGV", "exit status 2"), or "" while it
// runs or when it is not known.
func (p *Plugin) ExitReason() string {
	if !p.client.Exited() || p.cmd.ProcessState == nil {
		return ""
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return signalName(ws.Signal())
	}
	if sig := p.stderr.signal(); sig != "" {
		return sig
	}
	return p.cmd.ProcessState.String()
}

// waitExitReason waits up to d for the process to end and returns ExitReason.
func (p *Plugin) waitExitReason(d time.Duration) string {
	deadline := time.Now().Add(d)
	for !p.client.Exited() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return p.ExitReason()
}

// Close ends the plugin process: gracefully first, then by force (go-plugin Kill).
func (p *Plugin) Close() {
	p.closeOnce.Do(p.client.Kill)
}

// explain turns go-plugin's start errors into ErrPluginUnavailable with a reason a user can act on.
func (p *Plugin) explain(op string, err error) error {
	msg := err.Error()
	// go-plugin has a typed error only for the checksum; its other start failures are told
	// apart by their text, here at the edge, so that no caller has to.
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%s plugin %s: checksum does not match the pinned one (re-pin after an intended upgrade): %w: %w",
			op, p.name, ErrPluginUnavailable, ErrChecksumMismatch)
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
