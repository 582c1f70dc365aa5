package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Pool is the plugin host for a long-lived process (a daemon or a service that signs many
// requests): it keeps one running plugin per URI scheme and, when a plugin has crashed or
// been killed, starts a fresh one for the next call. A call that was in flight when the
// plugin died fails with the cause; it is not retried, since the device may have seen it.
//
// Pool is a plugins.Backend that routes each call by its key URI's scheme. It is safe for
// concurrent use.
type Pool struct {
	opts   Options
	logger *slog.Logger

	mu      sync.Mutex
	running map[string]*plugins.Plugin
	closed  bool
}

var _ plugins.Backend = (*Pool)(nil)

// NewPool returns an empty pool; plugins start on first use.
func NewPool(logger *slog.Logger, opts Options) *Pool {
	opts.defaults()
	return &Pool{opts: opts, logger: logger, running: map[string]*plugins.Plugin{}}
}

// Plugin returns the running plugin for scheme, starting one if there is none or the last
// one has exited.
func (p *Pool) Plugin(ctx context.Context, scheme string) (*plugins.Plugin, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("plugin pool is closed")
	}
	if pl, ok := p.running[scheme]; ok {
		if !pl.Exited() {
			return pl, nil
		}
		if p.logger != nil {
			p.logger.Info("plugin exited; starting a fresh one", "plugin", pl.Name(), "reason", pl.ExitReason())
		}
		pl.Close()
		delete(p.running, scheme)
	}
	pl, _, err := Start(ctx, scheme, p.logger, p.opts)
	if err != nil {
		return nil, err
	}
	p.running[scheme] = pl
	return pl, nil
}

// Close ends every running plugin.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for scheme, pl := range p.running {
		pl.Close()
		delete(p.running, scheme)
	}
}

// backendFor finds the plugin for key's scheme.
func (p *Pool) backendFor(ctx context.Context, key plugins.Key) (*plugins.Plugin, error) {
	u, err := keyuri.Parse(key.URI)
	if err != nil {
		return nil, err
	}
	return p.Plugin(ctx, u.Scheme)
}

// explain names a crash: after a call fails because the plugin went away, say how it died.
func explain(pl *plugins.Plugin, op string, err error) error {
	if err == nil || !errors.Is(err, plugins.ErrPluginUnavailable) {
		return err
	}
	if reason := waitExitReason(pl); reason != "" {
		return fmt.Errorf("plugin %s crashed (%s) during %s: %w", pl.Name(), reason, op, err)
	}
	return err
}

// Info is not meaningful for a pool, which serves several schemes.
func (p *Pool) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{}, fmt.Errorf("plugin pool: ask a scheme's plugin (Pool.Plugin) for its info: %w", plugins.ErrUnsupported)
}

// HMAC routes to the key's plugin.
func (p *Pool) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	pl, err := p.backendFor(ctx, key)
	if err != nil {
		return nil, err
	}
	mac, err := pl.HMAC(ctx, key, message)
	return mac, explain(pl, "HMAC", err)
}

// ImportKey routes to the key's plugin.
func (p *Pool) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	pl, err := p.backendFor(ctx, key)
	if err != nil {
		return err
	}
	return explain(pl, "import", pl.ImportKey(ctx, key, material, opts))
}

// DescribeKey routes to the key's plugin.
func (p *Pool) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	pl, err := p.backendFor(ctx, key)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	d, err := pl.DescribeKey(ctx, key)
	return d, explain(pl, "describe", err)
}

// DeleteKey routes to the key's plugin.
func (p *Pool) DeleteKey(ctx context.Context, key plugins.Key) error {
	pl, err := p.backendFor(ctx, key)
	if err != nil {
		return err
	}
	return explain(pl, "delete", pl.DeleteKey(ctx, key))
}
