package pkcs11backend

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// DefaultModulePath is the PKCS#11 module used when a URI has no module-path: SoftHSM2 as
// Debian and Ubuntu install it (package softhsm2).
const DefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so"

// Name is the backend's name; the plugin binary is "awskeep-plugin-" + Name.
const Name = "pkcs11"

// Scheme is the key URI scheme the backend serves (RFC 7512).
const Scheme = "pkcs11"

// modulePathVersion is this module's import path, to find its version in the build info.
const modulePathVersion = "github.com/awskeep/awskeep/plugin-softhsm"

// Options configure a Backend.
type Options struct {
	// DefaultModulePath is the module loaded for URIs without module-path. Default
	// DefaultModulePath.
	DefaultModulePath string
	// Version is what Info reports. Default: this module's version from the binary's build
	// information, or "devel".
	Version string
	// Logger receives debug notes on what the backend repaired (leftovers of an
	// interrupted import). Default: JSON lines on stderr in the format a go-plugin host
	// reads, so that `awskeep --debug` shows them.
	Logger *slog.Logger
	// Now is the clock that dates new keys (CKA_START_DATE). Default time.Now.
	Now func() time.Time
}

// Backend serves pkcs11: URIs. It is safe for concurrent use. Backends share the
// process-wide module registry (see the package documentation), so creating several is
// cheap and they never initialize a module twice.
type Backend struct {
	opts Options
	log  *slog.Logger

	// replacing counts replacements under way, for Close.
	replacing inflight
	// interrupt, set only by tests, is asked after each step of a replacement whether to
	// stop there as a crash would: without undoing anything.
	interrupt func(importStep) bool
}

var (
	_ plugins.Backend   = (*Backend)(nil)
	_ plugins.Closer    = (*Backend)(nil)
	_ plugins.KeyLister = (*Backend)(nil)
)

// New returns a Backend. It does not load any module: that happens on first use of a URI
// that names it.
func New(optFns ...func(*Options)) *Backend {
	opts := Options{DefaultModulePath: DefaultModulePath}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.DefaultModulePath == "" {
		opts.DefaultModulePath = DefaultModulePath
	}
	if opts.Version == "" {
		opts.Version = buildVersion()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = pluginLogger(os.Stderr)
	}
	return &Backend{opts: opts, log: log}
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePathVersion && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePathVersion && d.Version != "" && d.Version != "(devel)" {
			return d.Version
		}
	}
	return "devel"
}

// Info describes the backend without touching any module.
func (b *Backend) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name:            Name,
		Version:         b.opts.Version,
		ProtocolVersion: plugins.ProtocolVersion,
		Schemes:         []string{Scheme},
		Capabilities:    []string{plugins.CapabilityNonExtractable, plugins.CapabilityPIN, plugins.CapabilityListKeys},
	}, nil
}

// HMAC returns HMAC-SHA256(key, message) computed by the token with CKM_SHA256_HMAC
// (C_SignInit, C_Sign). ctx is checked before and after the token calls; a PKCS#11 call in
// progress cannot be interrupted, so a cancellation takes effect when it returns.
func (b *Backend) HMAC(ctx context.Context, key plugins.Key, message []byte) (mac []byte, err error) {
	defer recoverPanic("hmac", &err)
	if err := plugins.CheckMessage(message); err != nil {
		return nil, fmt.Errorf("pkcs11: hmac: %w", err)
	}
	sel, err := b.parse(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mac, err = b.hmac(ctx, sel, key.PIN, message)
	if err != nil {
		return nil, err
	}
	return mac, nil
}

// ImportKey stores material as a sensitive, non-extractable, sign-only CKK_GENERIC_SECRET
// key (C_CreateObject) and checks that the token can compute an HMAC with it before
// reporting success. The URI must name the key with object= or id=.
//
// A new key is one C_CreateObject. Replacing a key (opts.Overwrite) takes five calls, in
// an order chosen so that an interruption after any of them leaves the URI naming exactly
// one key, the old or the new, never two (see replace.go); once begun, the sequence runs
// to its end even if ctx is cancelled, and Close waits for it. Leftovers of an interrupted
// replacement are removed by the next import of the same URI.
func (b *Backend) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) (err error) {
	defer recoverPanic("import key", &err)
	sel, err := b.parse(key)
	if err != nil {
		return err
	}
	if len(material) == 0 {
		return fmt.Errorf("pkcs11: import %s: empty key material: %w", sel.keyName(), plugins.ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.importKey(ctx, sel, key.PIN, material, opts)
}

// DescribeKey reports the key's CKA_LABEL, CKA_ID, CKA_KEY_TYPE, CKA_SENSITIVE and
// CKA_EXTRACTABLE. A missing key is Exists false; a missing token is an error.
func (b *Backend) DescribeKey(ctx context.Context, key plugins.Key) (desc plugins.KeyDescription, err error) {
	defer recoverPanic("describe key", &err)
	sel, err := b.parse(key)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	if err := ctx.Err(); err != nil {
		return plugins.KeyDescription{}, err
	}
	desc, err = b.describeKey(ctx, sel, key.PIN)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	return desc, nil
}

// DeleteKey destroys the key (C_DestroyObject). It refuses when the URI matches more than
// one key.
func (b *Backend) DeleteKey(ctx context.Context, key plugins.Key) (err error) {
	defer recoverPanic("delete key", &err)
	sel, err := b.parse(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.deleteKey(ctx, sel, key.PIN)
}

// ListKeys lists the awskeep keys on the token the URI names (its object= and id= may be
// left out and are ignored): the secret keys that sign, are sensitive and cannot be
// extracted, of type CKK_GENERIC_SECRET or CKK_SHA256_HMAC, as ImportKey makes them, less
// the temporary keys of a replacement under way. It logs in with key.PIN: awskeep keys are
// private objects (CKA_PRIVATE), invisible before C_Login. Each entry's URI is the request's
// token and module attributes with the key's object= (CKA_LABEL) and id= (CKA_ID); Created
// is the key's CKA_START_DATE (midnight UTC of that day) where the token has one. A key with
// neither label nor id cannot be named by a URI and is left out.
func (b *Backend) ListKeys(ctx context.Context, key plugins.Key) (entries []plugins.KeyEntry, err error) {
	defer recoverPanic("list keys", &err)
	sel, u, err := parseTokenSelector(key.URI, b.opts.DefaultModulePath)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.listKeys(ctx, sel, u, key.PIN)
}

// Close waits, within ctx, for replacements under way (ImportKey with Overwrite) to reach
// their end, so that a host ending the plugin after its own deadline does not cut one off
// halfway. plugins.Serve calls it after the last request. It does not unload modules: the
// process is about to exit.
func (b *Backend) Close(ctx context.Context) error {
	b.replacing.mu.Lock()
	n := b.replacing.n
	b.replacing.mu.Unlock()
	if n == 0 {
		return nil
	}
	b.log.Debug("the host is ending the plugin during a key replacement; letting it finish", "replacements", n)
	if err := b.replacing.wait(ctx); err != nil {
		return fmt.Errorf("pkcs11: a key replacement did not finish before the plugin had to exit: %w", err)
	}
	b.log.Debug("key replacement finished; exiting")
	return nil
}

func (b *Backend) parse(key plugins.Key) (*selector, error) {
	return parseSelector(key.URI, b.opts.DefaultModulePath)
}

// recoverPanic turns a panic below an entry point (the cgo wrapper dereferences what the
// module hands back) into ErrDevice: a panic in a gRPC handler would kill the plugin and
// every request in flight with it.
func recoverPanic(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("pkcs11: %s: internal error in the PKCS#11 wrapper (%v); please report it: %w", op, r, plugins.ErrDevice)
	}
}
