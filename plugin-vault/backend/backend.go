package backend

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// Name and Version identify the backend in Info.
const (
	Name    = "vault"
	Version = "0.1.0"
)

// Options configure a Backend.
type Options struct {
	// Getenv reads the environment: VAULT_ADDR, VAULT_NAMESPACE, VAULT_CACERT and, when a
	// key's PIN is empty, VAULT_TOKEN. Default os.Getenv.
	Getenv func(string) string
	// Timeout bounds each HTTP exchange with Vault. Default 30 s.
	Timeout time.Duration
	// Now is the clock that expires AppRole tokens. Default time.Now.
	Now func() time.Time
}

// Backend is the Vault transit backend. It keeps one HTTP client per Vault address and,
// for AppRole keys, the token of the last login per role and secret ID. It is safe for
// concurrent use.
type Backend struct {
	opts Options

	mu      sync.Mutex
	clients map[string]*http.Client
	logins  map[loginKey]login
}

type loginKey struct {
	addr, namespace, authMount, roleID string
	secretID                           [sha256.Size]byte // a digest, so the map holds no secret ID
}

type login struct {
	token   string
	expires time.Time
}

// New returns a Backend.
func New(optFns ...func(*Options)) *Backend {
	o := Options{Getenv: os.Getenv, Timeout: 30 * time.Second, Now: time.Now}
	for _, fn := range optFns {
		fn(&o)
	}
	return &Backend{opts: o, clients: map[string]*http.Client{}, logins: map[loginKey]login{}}
}

// Info describes the backend without talking to Vault. Transit reports exportable and
// allow_plaintext_backup itself, so the backend claims non-extractable storage.
func (b *Backend) Info(ctx context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name: Name, Version: plugins.BuildVersion(Version), ProtocolVersion: plugins.ProtocolVersion,
		Schemes:      []string{Scheme},
		Capabilities: []string{plugins.CapabilityNonExtractable, plugins.CapabilityPIN},
	}, nil
}

// prepare parses the key URI and finds the token for it.
func (b *Backend) prepare(ctx context.Context, op string, key plugins.Key) (keyRef, string, error) {
	ref, err := parseKey(key.URI, b.opts.Getenv)
	if err != nil {
		return keyRef{}, "", err
	}
	if err := ctx.Err(); err != nil {
		return keyRef{}, "", fmt.Errorf("vault: %s %s: %w", op, ref, err)
	}
	token, err := b.token(ctx, op, ref, key.PIN)
	return ref, token, err
}

// token returns the Vault token for a request: the PIN; for AppRole the token a login with
// the PIN as secret ID returned (cached until shortly before it expires); for an empty PIN
// $VAULT_TOKEN.
func (b *Backend) token(ctx context.Context, op string, ref keyRef, pin string) (string, error) {
	if ref.roleID == "" {
		if pin == "" {
			pin = b.opts.Getenv("VAULT_TOKEN")
		}
		if pin == "" {
			return "", needToken(ref)
		}
		return pin, nil
	}
	if pin == "" {
		return "", plugins.MissingPIN("vault", "AppRole secret ID", ref.String())
	}
	lk := loginKey{addr: ref.addr, namespace: ref.namespace, authMount: ref.authMount, roleID: ref.roleID, secretID: sha256.Sum256([]byte(pin))}
	b.mu.Lock()
	l, ok := b.logins[lk]
	b.mu.Unlock()
	if ok && b.opts.Now().Before(l.expires) {
		return l.token, nil
	}
	var auth *authInfo
	err := b.call(ctx, ref, "", http.MethodPost, "auth/"+ref.authMount+"/login",
		map[string]string{"role_id": ref.roleID, "secret_id": pin}, nil, &auth)
	if err != nil {
		return "", translate("login", ref, err)
	}
	l = login{token: auth.ClientToken, expires: b.opts.Now().Add(time.Duration(auth.LeaseDuration) * time.Second * 9 / 10)}
	if auth.LeaseDuration <= 0 {
		l.expires = b.opts.Now().Add(time.Hour) // a token without a TTL (root-like)
	}
	b.mu.Lock()
	b.logins[lk] = l
	b.mu.Unlock()
	return l.token, nil
}

// forget drops the cached AppRole token of ref and pin once Vault has refused it (revoked
// or expired early), so that the next call logs in again. The refused call itself is not
// repeated.
func (b *Backend) forget(ref keyRef, pin string, err error) error {
	if ref.roleID != "" && errors.Is(err, plugins.ErrPINIncorrect) {
		lk := loginKey{addr: ref.addr, namespace: ref.namespace, authMount: ref.authMount, roleID: ref.roleID, secretID: sha256.Sum256([]byte(pin))}
		b.mu.Lock()
		delete(b.logins, lk)
		b.mu.Unlock()
	}
	return err
}

// HMAC computes HMAC-SHA256 with the transit key: POST MOUNT/hmac/NAME/sha2-256.
func (b *Backend) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	if err := plugins.CheckMessage(message); err != nil {
		return nil, fmt.Errorf("vault: hmac: %w", err)
	}
	ref, token, err := b.prepare(ctx, "hmac", key)
	if err != nil {
		return nil, err
	}
	var out struct {
		HMAC string `json:"hmac"`
	}
	err = b.call(ctx, ref, token, http.MethodPost, ref.mount+"/hmac/"+ref.name+"/sha2-256",
		map[string]string{"input": base64.StdEncoding.EncodeToString(message)}, &out, nil)
	if err != nil {
		return nil, b.forget(ref, key.PIN, translate("hmac", ref, err))
	}
	tag, err := parseHMAC(out.HMAC)
	if err != nil {
		return nil, translate("hmac", ref, err)
	}
	return tag, nil
}

// readKey reads MOUNT/keys/NAME; a missing key is (nil, nil) here only, never returned to
// the host as such.
func (b *Backend) readKey(ctx context.Context, op string, ref keyRef, token string) (*keyInfo, error) {
	var info keyInfo
	err := b.call(ctx, ref, token, http.MethodGet, ref.mount+"/keys/"+ref.name, nil, &info, nil)
	var api *apiError
	if errors.As(err, &api) && api.Status == http.StatusNotFound && len(api.Errors) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, translate(op, ref, err)
	}
	return &info, nil
}

// ImportKey imports material as a transit hmac key through bring-your-own-key: wrapped under
// the engine's RSA wrapping key, so it never crosses the network in clear, with
// exportable=false and allow_plaintext_backup=false. With Overwrite an existing key is
// deleted first (transit cannot replace a key's material in place without keeping the old
// version).
func (b *Backend) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	ref, token, err := b.prepare(ctx, "import", key)
	if err != nil {
		return err
	}
	existing, err := b.readKey(ctx, "import", ref, token)
	if err != nil {
		return b.forget(ref, key.PIN, err)
	}
	if existing != nil {
		if !opts.Overwrite {
			return &vaultError{op: "import " + ref.String(), sentinel: plugins.ErrKeyExists,
				err: fmt.Errorf("type %s, latest version %d", existing.Type, existing.LatestVersion), hint: "import with --force to replace it"}
		}
		if err := b.deleteKey(ctx, "import", ref, token); err != nil {
			return err
		}
	}
	var wk struct {
		PublicKey string `json:"public_key"`
	}
	if err := b.call(ctx, ref, token, http.MethodGet, ref.mount+"/wrapping_key", nil, &wk, nil); err != nil {
		return translate("import", ref, err)
	}
	pub, err := parseWrappingKey(wk.PublicKey)
	if err != nil {
		return translate("import", ref, err)
	}
	ciphertext, err := wrapForImport(pub, material)
	if err != nil {
		return translate("import", ref, err)
	}
	err = b.call(ctx, ref, token, http.MethodPost, ref.mount+"/keys/"+ref.name+"/import", map[string]any{
		"ciphertext":             ciphertext,
		"hash_function":          "SHA256",
		"type":                   "hmac",
		"exportable":             false,
		"allow_plaintext_backup": false,
	}, nil, nil)
	return translate("import", ref, err)
}

// DescribeKey reports the key's metadata from GET MOUNT/keys/NAME.
func (b *Backend) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	ref, token, err := b.prepare(ctx, "describe", key)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	info, err := b.readKey(ctx, "describe", ref, token)
	if err != nil || info == nil {
		return plugins.KeyDescription{}, b.forget(ref, key.PIN, err)
	}
	return describe(ref, info), nil
}

// describe turns transit's key metadata into a description. The key is extractable if
// transit would export it (exportable) or put it in a plaintext backup.
func describe(ref keyRef, info *keyInfo) plugins.KeyDescription {
	d := plugins.KeyDescription{
		Exists:      true,
		Label:       info.Name,
		Extractable: info.Exportable || info.AllowPlaintextBackup,
		Attributes: map[string]string{
			"addr":                   ref.addr,
			"mount":                  ref.mount,
			"type":                   info.Type,
			"exportable":             strconv.FormatBool(info.Exportable),
			"allow_plaintext_backup": strconv.FormatBool(info.AllowPlaintextBackup),
			"deletion_allowed":       strconv.FormatBool(info.DeletionAllowed),
			"imported":               strconv.FormatBool(info.Imported),
			"latest_version":         strconv.Itoa(info.LatestVersion),
		},
	}
	d.Sensitive = !d.Extractable
	if n := info.versions(); n > 0 { // transit lists versions for some key types only
		d.Attributes["versions"] = strconv.Itoa(n)
	}
	if ref.namespace != "" {
		d.Attributes["namespace"] = ref.namespace
	}
	if info.Type == "hmac" {
		// transit's hmac keys are plain HMAC keys; the hash comes with each request, and
		// this backend always asks for sha2-256.
		d.Algorithm = plugins.AlgorithmHMACSHA256
	} else {
		d.Algorithm = "vault-" + info.Type
	}
	return d
}

// DeleteKey deletes the transit key. Transit refuses to delete a key whose deletion_allowed
// is false, the default; DeleteKey sets it first (POST MOUNT/keys/NAME/config), so the token
// needs "update" there as well as "delete" on MOUNT/keys/NAME.
func (b *Backend) DeleteKey(ctx context.Context, key plugins.Key) error {
	ref, token, err := b.prepare(ctx, "delete", key)
	if err != nil {
		return err
	}
	info, err := b.readKey(ctx, "delete", ref, token)
	if err != nil {
		return b.forget(ref, key.PIN, err)
	}
	if info == nil {
		return translate("delete", ref, &apiError{Status: http.StatusNotFound})
	}
	return b.deleteKey(ctx, "delete", ref, token)
}

func (b *Backend) deleteKey(ctx context.Context, op string, ref keyRef, token string) error {
	err := b.call(ctx, ref, token, http.MethodPost, ref.mount+"/keys/"+ref.name+"/config",
		map[string]any{"deletion_allowed": true}, nil, nil)
	if err != nil {
		return translate(op, ref, fmt.Errorf("set deletion_allowed: %w", err))
	}
	err = b.call(ctx, ref, token, http.MethodDelete, ref.mount+"/keys/"+ref.name, nil, nil, nil)
	return translate(op, ref, err)
}
