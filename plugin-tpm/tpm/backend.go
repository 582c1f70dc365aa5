package tpm

import (
	"context"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugins"
)

// Version is the backend's version, reported by Info.
const Version = "0.1.0"

// DefaultDevice is the device used when a key URI has no device attribute: the kernel's
// TPM resource manager, which gives each connection its own handle space.
const DefaultDevice = "/dev/tpmrm0"

// Options configure a Backend. The zero value of each field means its default.
type Options struct {
	// DefaultDevice is used for key URIs without device=. Default DefaultDevice.
	DefaultDevice string
	// Open opens the device named by a key URI (a path, or tcp://HOST:PORT). Tests
	// substitute an in-process simulator here. Default OpenDevice.
	Open func(ctx context.Context, device string) (transport.TPMCloser, error)
	// Sleep waits d, or until ctx is done, between retries of a command the TPM answered
	// with TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries is how often such a command is sent again before giving up. Default 6.
	Retries int
}

// Backend is the TPM 2.0 plugins.Backend. It is safe for concurrent use.
type Backend struct {
	opts Options

	mu    sync.Mutex
	locks map[string]chan struct{}
}

var _ plugins.Backend = (*Backend)(nil)

// New returns a TPM backend.
func New(optFns ...func(*Options)) *Backend {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.DefaultDevice == "" {
		opts.DefaultDevice = DefaultDevice
	}
	if opts.Open == nil {
		opts.Open = OpenDevice
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Retries == 0 {
		opts.Retries = 6
	}
	return &Backend{opts: opts, locks: map[string]chan struct{}{}}
}

// Info describes the backend without touching a device.
func (b *Backend) Info(ctx context.Context) (plugins.Info, error) {
	return plugins.Info{
		Name:            "tpm",
		Version:         plugins.BuildVersion(Version),
		ProtocolVersion: plugins.ProtocolVersion,
		Schemes:         []string{"tpm"},
		Capabilities:    []string{plugins.CapabilityNonExtractable, plugins.CapabilityPIN, plugins.CapabilityListKeys},
	}, nil
}

// HMAC returns HMAC-SHA256(key, message) computed by the TPM: TPM2_HMAC for messages of up
// to 1024 bytes, an HMAC sequence (TPM2_HMAC_Start, TPM2_SequenceUpdate,
// TPM2_SequenceComplete) for longer ones.
func (b *Backend) HMAC(ctx context.Context, key plugins.Key, message []byte) ([]byte, error) {
	if err := plugins.CheckMessage(message); err != nil {
		return nil, errorf("hmac: %w", err)
	}
	ref, err := parseKey(key.URI, b.opts.DefaultDevice)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(ref, key.PIN); err != nil {
		return nil, err
	}
	var mac []byte
	err = b.withDevice(ctx, ref.device, func(d *device) error {
		k, err := d.loadKey(ref)
		if err != nil {
			return err
		}
		defer k.release()
		if err := k.checkHMACKey(); err != nil {
			return err
		}
		mac, err = d.hmac(k, []byte(key.PIN), message)
		return err
	})
	return mac, err
}

// ImportKey stores material as a new HMAC-SHA256 key at the URI's handle or file.
func (b *Backend) ImportKey(ctx context.Context, key plugins.Key, material []byte, opts plugins.ImportOptions) error {
	ref, err := parseKey(key.URI, b.opts.DefaultDevice)
	if err != nil {
		return err
	}
	if err := checkImport(ref, key.PIN, material); err != nil {
		return err
	}
	return b.withDevice(ctx, ref.device, func(d *device) error {
		return d.importKey(ref, []byte(key.PIN), material, opts.Overwrite)
	})
}

// DescribeKey reports the key's public area: TPM2_ReadPublic for a handle, the key file's
// public blob for a file (which needs no device).
func (b *Backend) DescribeKey(ctx context.Context, key plugins.Key) (plugins.KeyDescription, error) {
	ref, err := parseKey(key.URI, b.opts.DefaultDevice)
	if err != nil {
		return plugins.KeyDescription{}, err
	}
	if ref.file != "" {
		if err := ctx.Err(); err != nil {
			return plugins.KeyDescription{}, err
		}
		return describeFile(ref)
	}
	var desc plugins.KeyDescription
	err = b.withDevice(ctx, ref.device, func(d *device) error {
		desc, err = d.describeHandle(ref)
		return err
	})
	return desc, err
}

// DeleteKey removes the key: TPM2_EvictControl for a handle, removing the file for a file.
// It refuses to remove anything that is not an HMAC key, so that a mistyped handle cannot
// evict a storage key.
func (b *Backend) DeleteKey(ctx context.Context, key plugins.Key) error {
	ref, err := parseKey(key.URI, b.opts.DefaultDevice)
	if err != nil {
		return err
	}
	if ref.file != "" {
		if err := ctx.Err(); err != nil {
			return err
		}
		return deleteFile(ref)
	}
	return b.withDevice(ctx, ref.device, func(d *device) error {
		return d.deleteHandle(ref)
	})
}
