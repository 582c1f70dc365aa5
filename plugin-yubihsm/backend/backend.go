package backend

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
)

// Name and Version identify the backend in Info.
const (
	Name    = "yubihsm"
	Version = "0.1.0"
)

// maxClients bounds the cached clients (one per connector, auth key and password).
const maxClients = 16

// Options configure a Backend.
type Options struct {
	// Dial returns the transport to the connector at url. Default: a yubihsm.Connector
	// with Timeout.
	Dial func(url string) (yubihsm.Transport, error)
	// Timeout bounds each HTTP exchange with the connector. Default 10 s.
	Timeout time.Duration
	// Now is the clock that times idle sessions. Default time.Now.
	Now func() time.Time
}

// Backend is the YubiHSM 2 backend. It keeps one Connector per connector URL and one
// Client, with its session, per authentication key and password. It is safe for concurrent
// use.
type Backend struct {
	opts Options

	mu         sync.Mutex
	transports map[string]yubihsm.Transport
	clients    map[clientKey]*yubihsm.Client
}

type clientKey struct {
	connector string
	authKeyID uint16
	password  [sha256.Size]byte // a digest, so the map holds no password
}

// New returns a Backend.
func New(optFns ...func(*Options)) *Backend {
	o := Options{Timeout: 10 * time.Second, Now: time.Now}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Dial == nil {
		timeout := o.Timeout
		o.Dial = func(url string) (yubihsm.Transport, error) {
			return yubihsm.NewConnector(url, func(co *yubihsm.ConnectorOptions) { co.Timeout = timeout })
		}
	}
	return &Backend{opts: o, transports: map[string]yubihsm.Transport{}, clients: map[clientKey]*yubihsm.Client{}}
}

// Info describes the backend without touching a device.
func (b *Backend) Info(ctx context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name: Name, Version: plugins.BuildVersion(Version), ProtocolVersion: plugins.ProtocolVersion,
		Schemes:      []string{Scheme},
		Capabilities: []string{plugins.CapabilityNonExtractable, plugins.CapabilityPIN, plugins.CapabilityListKeys, plugins.CapabilityAuditLog},
		// One SIGN_HMAC frame holds at most 2026 bytes of data, and HMAC cannot be split
		// across commands without the key.
		MaxMessageSize: yubihsm.MaxHMACData,
	}, nil
}

// client returns the cached client for ref and password, creating it (and deriving the
// keys from the password) on first use.
func (b *Backend) client(ref keyRef, password string) (*yubihsm.Client, clientKey, error) {
	k := clientKey{connector: ref.connector, authKeyID: ref.authKeyID, password: sha256.Sum256([]byte("awskeep-yubihsm\x00" + password))}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.clients[k]; ok {
		return c, k, nil
	}
	t, ok := b.transports[ref.connector]
	if !ok {
		var err error
		if t, err = b.opts.Dial(ref.connector); err != nil {
			return nil, k, fmt.Errorf("yubihsm: %w: connector: %v", plugins.ErrInvalidKeyURI, err)
		}
		b.transports[ref.connector] = t
	}
	c, err := yubihsm.NewClient(t, ref.authKeyID, password, func(o *yubihsm.Options) { o.Now = b.opts.Now })
	if err != nil {
		return nil, k, fmt.Errorf("yubihsm: %w: %v", plugins.ErrDevice, err)
	}
	if len(b.clients) >= maxClients {
		for old := range b.clients {
			delete(b.clients, old) // its session expires on the device in 30 s
			break
		}
	}
	b.clients[k] = c
	return c, k, nil
}

// forget drops a client whose password the device refused, so that it is not kept.
func (b *Backend) forget(k clientKey, err error) {
	if errors.Is(err, yubihsm.ErrAuthentication) || errors.Is(err, yubihsm.ErrAuthKeyNotFound) {
		b.mu.Lock()
		delete(b.clients, k)
		b.mu.Unlock()
	}
}

// prepare parses the key, checks the context and returns the client for it.
func (b *Backend) prepare(ctx context.Context, key plugins.Key) (keyRef, *yubihsm.Client, clientKey, error) {
	ref, err := parseKey(key.URI)
	if err != nil {
		return keyRef{}, nil, clientKey{}, err
	}
	if err := ctx.Err(); err != nil {
		return keyRef{}, nil, clientKey{}, err
	}
	c, k, err := b.client(ref, key.PIN)
	return ref, c, k, err
}

// HMAC computes HMAC-SHA256 with SIGN_HMAC.
func (b *Backend) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	if err := plugins.CheckMessage(message); err != nil {
		return nil, fmt.Errorf("yubihsm: %w", err)
	}
	ref, c, k, err := b.prepare(ctx, key)
	if err != nil {
		return nil, err
	}
	op := "HMAC with " + ref.String()
	if len(message) > yubihsm.MaxHMACData {
		return nil, fmt.Errorf("yubihsm: %s: %w: %d bytes, the YubiHSM 2 takes at most %d in one SIGN_HMAC",
			op, plugins.ErrMessageTooLarge, len(message), yubihsm.MaxHMACData)
	}
	tag, err := c.SignHMAC(ctx, ref.objectID, message)
	if err != nil {
		b.forget(k, err)
		return nil, translate(op, ref, err)
	}
	if len(tag) != sha256.Size {
		return nil, fmt.Errorf("yubihsm: %s: %w: the key is not hmac-sha256 (%d-byte tag)", op, plugins.ErrUnsupported, len(tag))
	}
	return tag, nil
}

// ImportKey stores material with PUT_HMAC_KEY: hmac-sha256, capability sign-hmac only
// (not exportable under wrap), the URI's domains and label.
//
// With opts.Overwrite an existing key is deleted first (DELETE_OBJECT), then the new one
// stored: two commands, not one atomic replace. The YubiHSM 2 has no command that replaces
// an object, and PUT_HMAC_KEY refuses an object id in use; the new key cannot be stored
// beside the old one and moved either, since an object's id never changes (the id is what
// the URI names). Two keys with one id cannot happen; but a replacement cut off between the
// two commands (the plugin killed, the connector gone) leaves no key at the id, and the
// error then says that the old key may be gone and to check with awskeep keys describe.
// Once the old key is deleted, the request's context no longer counts (the new key is
// stored within replaceTimeout), so a host's deadline alone does not cut the sequence off.
func (b *Backend) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	ref, c, k, err := b.prepare(ctx, key)
	if err != nil {
		return err
	}
	op := "import " + ref.String()
	if len(material) == 0 {
		return fmt.Errorf("yubihsm: %s: %w: empty key material", op, plugins.ErrUnsupported)
	}
	spec := yubihsm.ObjectSpec{
		ID: ref.objectID, Label: ref.label, Domains: ref.domains,
		Capabilities: yubihsm.CapSignHMAC, Algorithm: yubihsm.AlgHMACSHA256,
	}
	_, err = c.PutHMACKey(ctx, spec, material)
	if errors.Is(err, yubihsm.ErrObjectExists) && opts.Overwrite {
		if err = c.DeleteObject(ctx, ref.objectID, yubihsm.TypeHMACKey); err != nil {
			b.forget(k, err)
			// A command cut off may have run on the device.
			return translate(op+": delete the old key (it may be gone: check with awskeep keys describe)", ref, err)
		}
		finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), replaceTimeout)
		defer cancel()
		if _, err = c.PutHMACKey(finish, spec, material); err != nil {
			b.forget(k, err)
			return translate(op+": the old key is deleted, but storing the new one failed, so the object id may hold no key "+
				"(check with awskeep keys describe, and import again)", ref, err)
		}
		return nil
	}
	b.forget(k, err)
	return translate(op, ref, err)
}

// replaceTimeout bounds storing the new key of a replacement once the old one is deleted;
// the request's own deadline no longer applies then.
const replaceTimeout = 10 * time.Second

// DescribeKey reports GET_OBJECT_INFO. A key the session cannot see is Exists false.
func (b *Backend) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	ref, c, k, err := b.prepare(ctx, key)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	info, err := c.GetObjectInfo(ctx, ref.objectID, yubihsm.TypeHMACKey)
	if errors.Is(err, yubihsm.ErrObjectNotFound) {
		return plugins.KeyDescription{Exists: false}, nil
	}
	if err != nil {
		b.forget(k, err)
		return plugins.KeyDescription{}, translate("describe "+ref.String(), ref, err)
	}
	return plugins.KeyDescription{
		Exists:    true,
		Algorithm: info.Algorithm.String(),
		// Only EXPORT_WRAPPED can take a key out, and only with this capability.
		Extractable: info.Capabilities.Has(yubihsm.CapExportableUnderWrap),
		// The YubiHSM 2 has no command that reads an HMAC key in clear.
		Sensitive: true,
		Label:     info.Label,
		Attributes: map[string]string{
			"object-id":    fmt.Sprintf("%#04x", info.ID),
			"domains":      info.Domains.String(),
			"capabilities": info.Capabilities.String(),
			"origin":       info.Origin.String(),
			"sequence":     fmt.Sprint(info.Sequence),
			"auth-key-id":  fmt.Sprintf("%#04x", ref.authKeyID),
			"connector":    ref.connector,
		},
	}, nil
}

// DeleteKey removes the key with DELETE_OBJECT.
func (b *Backend) DeleteKey(ctx context.Context, key plugins.Key) error {
	ref, c, k, err := b.prepare(ctx, key)
	if err != nil {
		return err
	}
	err = c.DeleteObject(ctx, ref.objectID, yubihsm.TypeHMACKey)
	b.forget(k, err)
	return translate("delete "+ref.String(), ref, err)
}

// Close ends every open session (CLOSE_SESSION), freeing the device's slots.
func (b *Backend) Close(ctx context.Context) error {
	b.mu.Lock()
	clients := make([]*yubihsm.Client, 0, len(b.clients))
	for _, c := range b.clients {
		clients = append(clients, c)
	}
	b.mu.Unlock()
	var errs []error
	for _, c := range clients {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}

var _ plugins.Backend = (*Backend)(nil)
