package tpm_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
)

// target is a TPM the tests run against, with the backend that reaches it.
type target struct {
	name    string
	backend *tpm.Backend
	// query is appended to key URIs: "?device=..." or "".
	query string
	// direct runs fn with a direct connection to the TPM, for set-up and checks beside the
	// backend (closed afterwards: swtpm serves one client at a time).
	direct func(t testing.TB, fn func(transport.TPM))
	// reboot restarts the TPM the way a computer's reboot would.
	reboot func(t testing.TB)
	// sw is the swtpm process, nil for the simulator.
	sw *swtpmtest.SWTPM
	// dir holds the target's key files, all in one directory as a user keeps them, so that
	// ListKeys of one file's URI finds the others.
	dir string
}

// simulator returns a target on the in-process simulator. Tests that use it must not run
// in parallel: there is one simulator per process.
func simulator(t testing.TB) *target {
	sim := tpmtest.Simulator(t)
	return &target{
		name:    "simulator",
		dir:     t.TempDir(),
		backend: tpm.New(func(o *tpm.Options) { o.Open = sim.Open }),
		direct: func(t testing.TB, fn func(transport.TPM)) {
			fn(tpmtest.Retry(sim))
		},
		reboot: sim.Reset,
	}
}

// swtpm returns a target on a swtpm process of its own.
func swtpm(t testing.TB) *target {
	sw := swtpmtest.Start(t)
	return &target{
		name:    "swtpm",
		dir:     t.TempDir(),
		backend: tpm.New(),
		query:   "?device=" + sw.Device,
		direct: func(t testing.TB, fn func(transport.TPM)) {
			t.Helper()
			c, err := sw.Open(context.Background())
			if err != nil {
				t.Fatalf("connect to swtpm: %v", err)
			}
			defer c.Close()
			fn(tpmtest.Retry(c))
		},
		reboot: sw.Restart,
		sw:     sw,
	}
}

// targets are the TPMs every behaviour is checked on.
var targets = []struct {
	name string
	new  func(testing.TB) *target
}{
	{"simulator", simulator},
	{"swtpm", swtpm},
}

var handleCounter, fileCounter atomic.Uint32

// handleKey returns a fresh persistent-handle key URI on tg.
func (tg *target) handleKey(t testing.TB, pin string) plugins.Key {
	n := handleCounter.Add(1)
	return plugins.Key{URI: fmt.Sprintf("tpm:handle=0x%08x%s", 0x81010000+n, tg.query), PIN: pin}
}

// fileKey returns a fresh key file URI on tg.
func (tg *target) fileKey(t testing.TB, pin string) plugins.Key {
	dir := tg.dir
	if dir == "" {
		dir = t.TempDir()
	}
	n := fileCounter.Add(1)
	return plugins.Key{URI: fmt.Sprintf("tpm:file=%s%s", filepath.Join(dir, fmt.Sprintf("aws-%d.tss2.pem", n)), tg.query), PIN: pin}
}

// keyKinds are the two ways to keep a key.
var keyKinds = []struct {
	name string
	new  func(tg *target, t testing.TB, pin string) plugins.Key
}{
	{"handle", (*target).handleKey},
	{"file", (*target).fileKey},
}

// withQuery adds a query attribute to a key URI.
func withQuery(k plugins.Key, attr string) plugins.Key {
	sep := "?"
	for _, c := range k.URI {
		if c == '?' {
			sep = "&"
		}
	}
	k.URI += sep + attr
	return k
}

// requireNothingLoaded fails t if the backend left a transient object or session behind.
func (tg *target) requireNothingLoaded(t testing.TB) {
	t.Helper()
	tg.direct(t, func(tpm transport.TPM) { tpmtest.RequireNothingLoaded(t, tpm) })
}

func softHMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// material is "AWS4" + the example secret access key of the AWS SigV4 documentation
// ("Examples of how to derive a signing key for Signature Version 4").
var material = []byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

func mustImport(t testing.TB, b plugins.Backend, k plugins.Key, material []byte) {
	t.Helper()
	if err := b.ImportKey(context.Background(), k, material, plugins.ImportOptions{}); err != nil {
		t.Fatalf("ImportKey(%s): %v", k, err)
	}
}
