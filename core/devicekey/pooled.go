package devicekey

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Pooled is a key on a long-lived plugin host (a pluginhost.Pool, which keeps the plugin
// running and restarts it after a crash). Its PIN is resolved once, at first use, and kept
// for the Pooled's life, so a process that signs all day asks for it once. Several users of
// one key (a direct signer and the credentials it also hands out) share one Pooled.
type Pooled struct {
	// Backend is the plugin host.
	Backend plugins.Backend
	// URI is the key URI, possibly with a pin-source.
	URI *keyuri.URI
	// Open says how to find the PIN (Host is not used: Backend starts the plugin).
	Open OpenOptions

	mu  sync.Mutex
	key *plugins.Key // the key with its PIN, once resolved

	ops atomic.Int64 // HMACs asked of the device
}

// Operations is the number of HMACs the device has been asked for through this Pooled,
// by every user of it.
func (p *Pooled) Operations() int64 { return p.ops.Load() }

// Key returns the key with its PIN, resolving the PIN at the first call when the key's
// plugin declares plugins.CapabilityPIN (NeedsPIN; the plugin is started to ask). A failure
// is not remembered: the next call asks again (a wrong PIN is the device's answer, not this
// step's, and the caller decides whether to call again).
func (p *Pooled) Key(ctx context.Context) (plugins.Key, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		return *p.key, nil
	}
	if err := CheckPluginDepth(p.Open.getenv()); err != nil {
		return plugins.Key{}, err
	}
	info, err := p.info(ctx)
	if err != nil {
		return plugins.Key{}, err
	}
	secret, err := keyPIN(ctx, p.URI, info, p.Open)
	if err != nil {
		return plugins.Key{}, err
	}
	p.key = &plugins.Key{URI: p.URI.WithoutSecrets().String(), PIN: secret}
	return *p.key, nil
}

// schemePlugins is what a long-lived plugin host (pluginhost.Pool) offers besides the
// contract: the running plugin of a scheme, started if need be.
type schemePlugins interface {
	Plugin(ctx context.Context, scheme string) (*plugins.Plugin, error)
}

// info is what the key's plugin says about itself: through the pool's plugin of the key's
// scheme, else the Backend's own Info. A Backend that cannot say (ErrUnsupported) is
// treated as declaring CapabilityPIN, the behaviour of hosts before NeedsPIN.
func (p *Pooled) info(ctx context.Context) (plugins.Info, error) {
	var info plugins.Info
	var err error
	if sp, ok := p.Backend.(schemePlugins); ok {
		var pl *plugins.Plugin
		if pl, err = sp.Plugin(ctx, p.URI.Scheme); err != nil {
			return plugins.Info{}, creds.Wrap(creds.ClassPlugin, "", err)
		}
		info, err = pl.Info(ctx)
	} else {
		info, err = p.Backend.Info(ctx)
	}
	if errors.Is(err, plugins.ErrUnsupported) {
		return plugins.Info{Capabilities: []string{plugins.CapabilityPIN}}, nil
	}
	if err != nil {
		return plugins.Info{}, creds.Wrap(creds.ClassPlugin, "", err)
	}
	return info, nil
}

// Deriver is the key's sigv4.Deriver through the pool, with errors classified and explained
// like Device.Deriver's. It resolves the PIN at its first call.
func (p *Pooled) Deriver() sigv4.Deriver {
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		key, err := p.Key(ctx)
		if err != nil {
			return nil, err
		}
		p.ops.Add(1)
		mac, err := Deriver(p.Backend, key).DeriveDateKey(ctx, date)
		if err != nil {
			return nil, explainDevice("HMAC", key, err)
		}
		return mac, nil
	})
}

// Forget drops the resolved PIN, e.g. when the owner closes.
func (p *Pooled) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = nil
}
