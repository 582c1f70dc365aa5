//go:build cgo

package tpmtest

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2/transport"
)

// Sim is the go-tpm-tools in-process TPM 2.0 simulator (the TCG reference implementation
// built with cgo). There is one per process: Simulator waits until the previous test
// closed its own.
type Sim struct {
	mu  sync.Mutex
	sim *simulator.Simulator
}

// Simulator starts a freshly manufactured simulator, powered on and started
// (TPM2_Startup(CLEAR)), and closes it at the end of the test.
func Simulator(t testing.TB) *Sim {
	t.Helper()
	sim, err := simulator.Get()
	if err != nil {
		t.Fatalf("tpmtest: start the simulator: %v", err)
	}
	s := &Sim{sim: sim}
	t.Cleanup(func() { _ = sim.Close() })
	return s
}

// Send implements transport.TPM.
func (s *Sim) Send(cmd []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The reference code decrypts parameters in the buffer it is given: hand it a copy,
	// so that the caller's command stays as sent (and could be sent again).
	if _, err := s.sim.Write(bytes.Clone(cmd)); err != nil {
		return nil, err
	}
	buf := make([]byte, 8192)
	n, err := s.sim.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// Open returns a connection for tpm.Options.Open: every device name reaches this
// simulator, and closing the connection leaves the simulator running.
func (s *Sim) Open(ctx context.Context, device string) (transport.TPMCloser, error) {
	return conn{s}, nil
}

// Reset reboots the simulator: an orderly TPM2_Shutdown(CLEAR), then TPM2_Startup(CLEAR).
// Persistent objects survive; transient objects, sessions and PCR values do not.
func (s *Sim) Reset(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sim.Reset(); err != nil {
		t.Fatalf("tpmtest: reset the simulator: %v", err)
	}
}

type conn struct{ *Sim }

func (conn) Close() error { return nil }
