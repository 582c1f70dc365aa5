//go:build !cgo

package tpmtest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
)

// Sim stands in for the in-process simulator, which needs cgo.
type Sim struct{}

// Simulator fails the test: the go-tpm-tools simulator is C code built with cgo.
func Simulator(t testing.TB) *Sim {
	t.Helper()
	t.Fatal("tpmtest: the TPM simulator needs cgo: build with CGO_ENABLED=1 and a C compiler (apt-get install gcc libssl-dev)")
	return nil
}

// Send fails: there is no simulator without cgo.
func (*Sim) Send([]byte) ([]byte, error) { return nil, errors.New("no simulator without cgo") }

// Open fails: there is no simulator without cgo.
func (*Sim) Open(context.Context, string) (transport.TPMCloser, error) {
	return nil, errors.New("no simulator without cgo")
}

// Reset does nothing: there is no simulator without cgo.
func (*Sim) Reset(testing.TB) {}
