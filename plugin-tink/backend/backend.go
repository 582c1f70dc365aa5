package backend

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/awskeep/awskeep/plugins"
)

// Name and Version identify the backend in Info.
const (
	Name    = "tink"
	Version = "0.1.0"
)

// Protection is the honest one-line statement DescribeKey reports in the "protection"
// attribute.
const Protection = "software-wrapped: a Tink keyset encrypted by an AWS KMS key; the plugin decrypts it into " +
	"its memory and computes HMACs there; whoever has the file and kms:Decrypt on the key can recover the secret"

// minMaterial is Tink's smallest HMAC key (tink-go mac/hmac: key size >= 16).
const minMaterial = 16

// Options configure a Backend.
type Options struct {
	// NewKMS returns the KMS client for a region, an endpoint ("" for the default) and a
	// profile ("" for the default chain). Default: aws-sdk-go-v2's LoadDefaultConfig in the
	// plugin's environment. Each combination is built once per Backend.
	NewKMS func(ctx context.Context, region, endpoint, profile string) (awskms.KMSAPI, error)
}

// Backend is the Tink backend. It keeps one KMS client per region, endpoint and profile,
// and the MAC primitive of each keyset it decrypted, as long as its file does not change.
// It is safe for concurrent use.
type Backend struct {
	opts Options

	mu      sync.Mutex
	clients map[kmsTarget]awskms.KMSAPI
	cache   map[keyRef]*opened
	refs    map[string]keyRef // parsed URIs: half an HMAC's time was parsing
	// loading lets one caller at a time decrypt a keyset, so that concurrent first calls
	// make one KMS Decrypt.
	loading chan struct{}
}

// opened is a decrypted keyset: its primitive and the version of the file it came from.
type opened struct {
	file  os.FileInfo
	mac   tink.MAC
	facts keyFacts
}

// New returns a Backend.
func New(optFns ...func(*Options)) *Backend {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.NewKMS == nil {
		o.NewKMS = DefaultKMS
	}
	return &Backend{
		opts: o, clients: map[kmsTarget]awskms.KMSAPI{}, cache: map[keyRef]*opened{}, refs: map[string]keyRef{},
		loading: make(chan struct{}, 1),
	}
}

// Info describes the backend without touching KMS or a file.
func (b *Backend) Info(ctx context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name: Name, Version: plugins.BuildVersion(Version), ProtocolVersion: plugins.ProtocolVersion,
		Schemes:      []string{Scheme},
		Capabilities: []string{plugins.CapabilitySoftwareWrapped},
	}, nil
}

// maxRefs bounds the parsed URIs a Backend keeps.
const maxRefs = 64

// prepare parses the key (once per URI) and checks the context.
func (b *Backend) prepare(ctx context.Context, key plugins.Key) (keyRef, error) {
	b.mu.Lock()
	ref, ok := b.refs[key.URI]
	b.mu.Unlock()
	if !ok {
		var err error
		if ref, err = parseKey(key.URI); err != nil {
			return keyRef{}, err
		}
		b.mu.Lock()
		if len(b.refs) >= maxRefs {
			clear(b.refs)
		}
		b.refs[key.URI] = ref
		b.mu.Unlock()
	}
	return ref, ctx.Err()
}

// HMAC computes HMAC-SHA256 with the keyset's key. The keyset is decrypted with KMS on
// first use and whenever its file changed; otherwise the cached primitive answers.
func (b *Backend) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	if err := plugins.CheckMessage(message); err != nil {
		return nil, fmt.Errorf("tink: %w", err)
	}
	ref, err := b.prepare(ctx, key)
	if err != nil {
		return nil, err
	}
	o, err := b.open(ctx, ref, "HMAC with "+ref.String())
	if err != nil {
		return nil, err
	}
	tag, err := o.mac.ComputeMAC(message)
	if err != nil {
		return nil, fail("HMAC with "+ref.String(), plugins.ErrDevice, "", err)
	}
	return tag, nil
}

// open returns the decrypted keyset of ref, from the cache while its file is unchanged.
func (b *Backend) open(ctx context.Context, ref keyRef, op string) (*opened, error) {
	fi, err := os.Stat(ref.file)
	if err != nil {
		b.forget(ref.file)
		return nil, translateFS(ctx, op, ref, err)
	}
	if o := b.cached(ref, fi); o != nil {
		return o, nil
	}
	select {
	case b.loading <- struct{}{}:
		defer func() { <-b.loading }()
	case <-ctx.Done():
		return nil, fmt.Errorf("tink: %s: %w", op, ctx.Err())
	}
	if fi, err = os.Stat(ref.file); err != nil {
		return nil, translateFS(ctx, op, ref, err)
	}
	if o := b.cached(ref, fi); o != nil {
		return o, nil // another caller decrypted it meanwhile
	}
	data, fi, err := readKeysetFile(ref.file)
	if errors.Is(err, errKeysetInvalid) {
		return nil, fail(op, plugins.ErrDevice, "", err)
	}
	if err != nil {
		return nil, translateFS(ctx, op, ref, err)
	}
	if _, err := parseEncrypted(data); err != nil {
		return nil, fail(op, plugins.ErrDevice, ref.file+" is not a keyset awskeep wrote", err)
	}
	kek, err := b.aead(ctx, ref)
	if err != nil {
		return nil, translateKMS(ctx, op, ref, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tink: %s: %w", op, err)
	}
	primitive, facts, err := openKeyset(ctx, data, kek)
	if errors.Is(err, errKeysetInvalid) {
		return nil, fail(op, plugins.ErrUnsupported, ref.file+" holds a keyset of another kind", err)
	}
	if err != nil {
		return nil, translateKMS(ctx, op+": decrypt the keyset with "+ref.kek, ref, err)
	}
	o := &opened{file: fi, mac: primitive, facts: facts}
	b.mu.Lock()
	b.cache[ref] = o
	b.mu.Unlock()
	return o, nil
}

func (b *Backend) cached(ref keyRef, fi os.FileInfo) *opened {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o, ok := b.cache[ref]; ok && sameFile(o.file, fi) {
		return o
	}
	return nil
}

// forget drops every cached keyset of file.
func (b *Backend) forget(file string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for r := range b.cache {
		if r.file == file {
			delete(b.cache, r)
		}
	}
}

// ImportKey writes material as the one key of a new keyset, encrypted with the KMS key of
// kek=, to file= (mode 0600, atomically). Before the file is written the encrypted keyset
// is decrypted once more with KMS and checked, so a key whose policy allows Encrypt but not
// Decrypt fails here and not at the first signature.
func (b *Backend) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	ref, err := b.prepare(ctx, key)
	if err != nil {
		return err
	}
	op := "import " + ref.String()
	if len(material) < minMaterial {
		return fail(op, plugins.ErrUnsupported, fmt.Sprintf("Tink HMAC keys have at least %d bytes, got %d", minMaterial, len(material)), nil)
	}
	if !opts.Overwrite {
		if _, err := os.Lstat(ref.file); err == nil {
			return translateFS(ctx, op, ref, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return translateFS(ctx, op, ref, err)
		}
	}
	if fi, err := os.Stat(filepath.Dir(ref.file)); err != nil || !fi.IsDir() {
		return fail(op, plugins.ErrInvalidKeyURI, "the directory of file= does not exist: create it (mode 0700) first", nil)
	}
	h, err := newKeyset(material)
	if err != nil {
		return fail(op, plugins.ErrUnsupported, "Tink refused the key", err)
	}
	kek, err := b.aead(ctx, ref)
	if err != nil {
		return translateKMS(ctx, op, ref, err)
	}
	data, err := encryptKeyset(ctx, h, kek)
	if err != nil {
		return translateKMS(ctx, op+": encrypt the keyset with "+ref.kek, ref, err)
	}
	// Read back what will be written, and check it computes what material does.
	primitive, facts, err := openKeyset(ctx, data, kek)
	if err != nil {
		return translateKMS(ctx, op+": decrypt the new keyset with "+ref.kek, ref, err)
	}
	probe := make([]byte, 16)
	_, _ = rand.Read(probe)
	got, err := primitive.ComputeMAC(probe)
	if err != nil || !bytes.Equal(got, softwareHMAC(material, probe)) {
		return fail(op, plugins.ErrDevice, "the keyset read back does not compute the imported key's HMAC", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tink: %s: %w", op, err)
	}
	if err := writeAtomic(ref.file, data, opts.Overwrite); err != nil {
		return translateFS(ctx, op, ref, err)
	}
	b.forget(ref.file)
	if fi, err := os.Stat(ref.file); err == nil {
		o := &opened{file: fi, mac: primitive, facts: facts}
		b.mu.Lock()
		b.cache[ref] = o
		b.mu.Unlock()
	}
	return nil
}

// DescribeKey reports the keyset: Exists false if there is no file; otherwise it decrypts
// the keyset (once per file version) and says honestly what protects it: the key is
// extractable by whoever has the file and kms:Decrypt, and not sensitive.
func (b *Backend) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	ref, err := b.prepare(ctx, key)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	op := "describe " + ref.String()
	if _, err := os.Lstat(ref.file); errors.Is(err, fs.ErrNotExist) {
		b.forget(ref.file)
		return plugins.KeyDescription{Exists: false}, nil
	}
	o, err := b.open(ctx, ref, op)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	return plugins.KeyDescription{
		Exists:      true,
		Algorithm:   plugins.AlgorithmHMACSHA256,
		Extractable: true,
		Sensitive:   false,
		Label:       filepath.Base(ref.file),
		Attributes: map[string]string{
			"protection":    Protection,
			"file":          ref.file,
			"file-mode":     fmt.Sprintf("%#o", o.file.Mode().Perm()),
			"kek":           ref.kek,
			"kms-region":    ref.region,
			"tink-key-type": hmacTypeURL,
			"tink-key-id":   strconv.FormatUint(uint64(o.facts.id), 10),
			"key-size":      strconv.Itoa(o.facts.size),
		},
	}, nil
}

// DeleteKey removes the keyset file. It needs no KMS access. Copies of the file (backups)
// still hold the key for whoever may decrypt with the KMS key.
func (b *Backend) DeleteKey(ctx context.Context, key plugins.Key) error {
	ref, err := b.prepare(ctx, key)
	if err != nil {
		return err
	}
	b.forget(ref.file)
	if err := os.Remove(ref.file); err != nil {
		return translateFS(ctx, "delete "+ref.String(), ref, err)
	}
	return translateFS(ctx, "delete "+ref.String(), ref, syncDir(filepath.Dir(ref.file)))
}

// softwareHMAC is HMAC-SHA256 in Go's standard library, what the keyset must compute.
func softwareHMAC(key, message []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(message)
	return m.Sum(nil)
}

var _ plugins.Backend = (*Backend)(nil)
