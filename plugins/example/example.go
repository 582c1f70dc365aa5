// Package example is a complete awskeep backend that keeps keys in process memory. It is a
// teaching template: copy it to start a backend for a new device, then replace the map with
// calls to the device. Never use it for real keys: a software store cannot keep a secret
// from whoever can read the process's memory, and its keys vanish when the plugin exits.
//
// It serves URIs of the form example:name=NAME. A key may have a PIN, set by the PIN given
// at import; like a real token it locks the key after three wrong PINs in a row.
package example

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sync"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Version is the example backend's version.
const Version = "0.1.0"

// maxPINFailures is how many wrong PINs in a row lock a key, as a token's user PIN would.
const maxPINFailures = 3

// Backend is the in-memory backend. The zero value is not usable; call New.
type Backend struct {
	mu   sync.Mutex
	keys map[string]*key
}

type key struct {
	material []byte
	pin      string
	failures int
}

// New returns an empty in-memory backend.
func New() *Backend {
	return &Backend{keys: make(map[string]*key)}
}

var _ plugins.Backend = (*Backend)(nil)

// Info describes the backend. It claims neither non-extractable storage (it has none) nor
// device PINs, so the conformance kit holds it to what a software store can promise.
func (b *Backend) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name:            "example",
		Version:         Version,
		ProtocolVersion: plugins.ProtocolVersion,
		Schemes:         []string{Scheme},
		Capabilities:    []string{plugins.CapabilityPIN},
	}, nil
}

// HMAC computes HMAC-SHA256 with the named key.
func (b *Backend) HMAC(ctx context.Context, k plugins.Key, message []byte) ([]byte, error) {
	// Check the cheap things first, in the order a device would: arguments, then the key,
	// then the PIN. ctx is checked before work starts; a device call that cannot be
	// interrupted should at least not start once the caller has gone.
	if err := plugins.CheckMessage(message); err != nil {
		return nil, fmt.Errorf("example: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := keyName(k.URI)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	stored, ok := b.keys[name]
	if !ok {
		return nil, fmt.Errorf("example: key %q: %w", name, plugins.ErrKeyNotFound)
	}
	if err := stored.login(name, k.PIN); err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, stored.material)
	mac.Write(message)
	return mac.Sum(nil), nil
}

// login checks pin against the key's PIN. The error never holds the PIN. An empty PIN for
// a key that has one is refused before the check, as a device that was never asked: it
// costs no try.
func (s *key) login(name, pin string) error {
	if pin == "" && s.pin != "" {
		return plugins.MissingPIN("example", "PIN", fmt.Sprintf("key %q", name))
	}
	if s.failures >= maxPINFailures {
		return fmt.Errorf("example: key %q is locked after %d wrong PINs: %w", name, maxPINFailures, plugins.ErrPINLocked)
	}
	if subtle.ConstantTimeCompare([]byte(pin), []byte(s.pin)) != 1 {
		s.failures++
		return fmt.Errorf("example: key %q: %w (%d of %d tries left)", name, plugins.ErrPINIncorrect, maxPINFailures-s.failures, maxPINFailures)
	}
	s.failures = 0
	return nil
}

// ImportKey stores material under the URI's name, with k.PIN as the key's PIN.
func (b *Backend) ImportKey(ctx context.Context, k plugins.Key, material []byte, opts plugins.ImportOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := keyName(k.URI)
	if err != nil {
		return err
	}
	if len(material) == 0 {
		return fmt.Errorf("example: import %q: empty key: %w", name, plugins.ErrUnsupported)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.keys[name]; ok {
		if !opts.Overwrite {
			// No advice on how to replace it: the host adds its own ("pass --force").
			return fmt.Errorf("example: import %q: %w", name, plugins.ErrKeyExists)
		}
		// Replacing a key needs the old key's PIN, as deleting it would.
		if err := old.login(name, k.PIN); err != nil {
			return err
		}
	}
	b.keys[name] = &key{material: append([]byte(nil), material...), pin: k.PIN}
	return nil
}

// DescribeKey reports the key. Extractable is false because no operation exports a key;
// Sensitive is false because the key sits in ordinary process memory.
func (b *Backend) DescribeKey(ctx context.Context, k plugins.Key) (plugins.KeyDescription, error) {
	if err := ctx.Err(); err != nil {
		return plugins.KeyDescription{}, err
	}
	name, err := keyName(k.URI)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.keys[name]; !ok {
		return plugins.KeyDescription{Exists: false}, nil
	}
	return plugins.KeyDescription{
		Exists:     true,
		Algorithm:  plugins.AlgorithmHMACSHA256,
		Label:      name,
		Attributes: map[string]string{"storage": "process memory"},
	}, nil
}

// DeleteKey removes the key; it needs the key's PIN.
func (b *Backend) DeleteKey(ctx context.Context, k plugins.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := keyName(k.URI)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	stored, ok := b.keys[name]
	if !ok {
		return fmt.Errorf("example: key %q: %w", name, plugins.ErrKeyNotFound)
	}
	if err := stored.login(name, k.PIN); err != nil {
		return err
	}
	delete(b.keys, name)
	return nil
}

// Scheme is the key URI scheme the example backend serves.
const Scheme = "example"

// The schema makes keyuri.Parse check example URIs: one path attribute, name, required;
// no query attributes but the PIN's. A backend registers its schema once, at init, and
// then reads attributes without checking them again.
func init() {
	keyuri.Register(Scheme, keyuri.Schema{
		Path:     []string{"name"},
		Query:    []string{},
		Required: []string{"name"},
	})
}

// keyName finds the key's name in a URI of the scheme. keyuri checked it against the schema.
func keyName(uri string) (string, error) {
	u, err := keyuri.ParseFor(Scheme, uri)
	if err != nil {
		return "", fmt.Errorf("example: %w", err)
	}
	name, _ := u.PathAttr("name")
	return name, nil
}
