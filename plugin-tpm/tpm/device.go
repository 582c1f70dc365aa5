package tpm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"

	"github.com/awskeep/awskeep/plugin-tpm/mssim"
	"github.com/awskeep/awskeep/plugins"
)

// OpenDevice opens a TPM named the way key URIs name it: a character device such as
// /dev/tpmrm0, or tcp://HOST:PORT for the command port of a simulator speaking the TPM
// reference simulator's protocol (swtpm socket --server type=tcp, ms-tpm-20-ref). A
// simulator must already be powered on; its platform port (PORT+1) is not used.
func OpenDevice(ctx context.Context, device string) (transport.TPMCloser, error) {
	switch {
	case strings.HasPrefix(device, "tcp://"):
		addr := strings.TrimPrefix(device, "tcp://")
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return nil, fmt.Errorf("tpm: device %q: want tcp://HOST:PORT: %w", device, plugins.ErrInvalidKeyURI)
		}
		c, err := mssim.Dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return c, nil
	case strings.HasPrefix(device, "/"):
		return linuxtpm.Open(device)
	default:
		return nil, fmt.Errorf("tpm: device %q: want a path such as /dev/tpmrm0 or tcp://HOST:PORT: %w",
			device, plugins.ErrInvalidKeyURI)
	}
}

// device is one open connection to a TPM, used by one Backend call.
type device struct {
	tpm  transport.TPM
	name string
}

// withDevice runs fn with the device open and to itself: calls on the same device wait
// for each other (ctx bounds the wait), and the device is closed afterwards.
func (b *Backend) withDevice(ctx context.Context, name string, fn func(*device) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tpm: %w", err)
	}
	unlock, err := b.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := b.opts.Open(ctx, name)
	if err != nil {
		return openError(name, err)
	}
	defer t.Close()
	d := &device{
		tpm:  &retrier{next: t, ctx: ctx, sleep: b.opts.Sleep, retries: b.opts.Retries},
		name: name,
	}
	if err := fn(d); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return fmt.Errorf("%w (%w)", err, ctxErr)
		}
		return err
	}
	return nil
}

func (b *Backend) lock(ctx context.Context, name string) (func(), error) {
	b.mu.Lock()
	ch, ok := b.locks[name]
	if !ok {
		ch = make(chan struct{}, 1)
		b.locks[name] = ch
	}
	b.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("tpm: wait for device %s: %w", name, ctx.Err())
	}
}

func openError(name string, err error) error {
	switch {
	case errors.Is(err, plugins.ErrInvalidKeyURI):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("tpm: open %s: %w", name, err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("tpm: open %s: no such device (is a TPM present and its driver loaded? in a VM, add a virtual TPM): %w",
			name, plugins.ErrDeviceUnavailable)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("tpm: open %s: permission denied (add the user to the group that owns it, usually tss): %w",
			name, plugins.ErrDeviceUnavailable)
	case errors.Is(err, linuxtpm.ErrFileIsNotDevice):
		return fmt.Errorf("tpm: open %s: not a TPM character device: %w", name, plugins.ErrDeviceUnavailable)
	default:
		return fmt.Errorf("tpm: open %s: %v (is the TPM or simulator running?): %w", name, err, plugins.ErrDeviceUnavailable)
	}
}

// Response codes that ask the caller to send the same command again (TPM 2.0 Part 2
// section 6.6.3): the TPM did not execute it, so its sessions' nonces have not moved and
// the command bytes stay valid. swtpm answers TPM_RC_RETRY to the first use of a password
// after each start. Authorization failures and TPM_RC_LOCKOUT are never retried.
var retryable = []tpm2.TPMRC{tpm2.TPMRCRetry, tpm2.TPMRCYielded, tpm2.TPMRCTesting}

// retrier is a transport that re-sends commands the TPM asked to be re-sent, with a short
// exponential backoff, and answers TPM_RC_INITIALIZE with TPM2_Startup(CLEAR) once, for a
// simulator started without it.
type retrier struct {
	next      transport.TPM
	ctx       context.Context
	sleep     func(context.Context, time.Duration) error
	retries   int
	startedUp bool
}

// startupClear is TPM2_Startup(TPM_SU_CLEAR) (Part 3 section 9.3).
var startupClear = []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0}

func (r *retrier) Send(cmd []byte) ([]byte, error) {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		rsp, err := r.next.Send(cmd)
		if err != nil {
			return nil, err
		}
		if len(rsp) < 10 {
			return rsp, nil // go-tpm reports the malformed response
		}
		rc := tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10]))
		switch {
		case rc == tpm2.TPMRCInitialize && !r.startedUp:
			r.startedUp = true
			if _, err := r.next.Send(startupClear); err != nil {
				return nil, err
			}
			continue
		case isRetryable(rc) && attempt < r.retries:
			if err := r.sleep(r.ctx, delay); err != nil {
				return nil, err
			}
			delay *= 2
			continue
		}
		return rsp, nil
	}
}

func isRetryable(rc tpm2.TPMRC) bool {
	for _, r := range retryable {
		if rc == r {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
