package devicekey

import (
	"context"
	"sync"
	"sync/atomic"

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

// Key returns the key with its PIN, resolving the PIN at the first call. A failure is not
// remembered: the next call asks again (a wrong PIN is the device's answer, not this step's,
// and the caller decides whether to call again).
func (p *Pooled) Key(ctx context.Context) (plugins.Key, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		return *p.key, nil
	}
	secret, err := resolvePIN(ctx, p.URI, p.Open)
	if err != nil {
		return plugins.Key{}, err
	}
	p.key = &plugins.Key{URI: p.URI.WithoutSecrets().String(), PIN: secret}
	return *p.key, nil
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
