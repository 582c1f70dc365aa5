package devicekey

import (
	"context"
	"errors"
	"sync"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sigv4"
)

// errReleased is what a derivation asked for after the device was released says: only a
// retry of the STS call that crosses midnight UTC, and so needs kDate for a new date,
// gets it.
var errReleased = errors.New("the device was closed after it signed; the UTC date changed while STS was being called: run again")

// releasing closes a Device as soon as it has answered, while the request it signed is
// on its way to STS: the plugin winds down (a PKCS#11 module's C_Logout and C_Finalize,
// the process's exit) during the round trip instead of after it. A retry of the request
// on the same date reuses the signer's cached kSigning (the STS client is built with
// sigv4.Options.CacheSigningKey and closed when Retrieve returns), so nothing after the
// first answer needs the device.
type releasing struct {
	dev *Device

	mu       sync.Mutex
	released bool
	done     chan struct{}
}

func newReleasing(d *Device) *releasing {
	return &releasing{dev: d, done: make(chan struct{})}
}

// Deriver is the device's Deriver, releasing the device after its first answer.
func (r *releasing) Deriver() sigv4.Deriver {
	inner := r.dev.Deriver()
	return sigv4.DeriverFunc(func(ctx context.Context, date string) ([]byte, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.released {
			return nil, creds.Wrap(creds.ClassPlugin, "", errReleased)
		}
		key, err := inner.DeriveDateKey(ctx, date)
		if err == nil {
			r.releaseLocked()
		}
		return key, err
	})
}

// releaseLocked starts closing the device, once; r.mu is held.
func (r *releasing) releaseLocked() {
	if r.released {
		return
	}
	r.released = true
	go func() {
		r.dev.Close()
		close(r.done)
	}()
}

// Close closes the device if no answer has done so yet, and returns once it is closed:
// its plugin process has ended and been reaped.
func (r *releasing) Close() {
	r.mu.Lock()
	r.releaseLocked()
	r.mu.Unlock()
	<-r.done
}
