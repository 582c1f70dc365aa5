// Package conformance is the test kit every awskeep backend runs. It checks, against the
// real device, what the host relies on: HMAC known answers, import and overwrite rules,
// what DescribeKey promises, errors arriving as the contract's sentinels, message limits,
// concurrency and cancellation, and the optional operations of protocol 1.3 (ListKeys,
// AuditLog): held to what they promise where Info claims them, ErrUnsupported where not.
//
// A backend's test calls Run twice: once with the backend in process, and once with the
// same backend behind its real plugin binary (BuildPlugin, LaunchPlugin), so that the gRPC
// mapping is checked too:
//
//	func TestConformance(t *testing.T) {
//		cfg := conformance.Config{Backend: mybackend.New(), NewKey: newKey}
//		conformance.Run(t, cfg)
//	}
//
// The kit never skips a check silently: a check that does not apply (no PINs) says so in
// the test log.
//
// # Time budget and load
//
// Each check (a subtest: ImportAndHMAC, Concurrent, ...) has one time budget,
// Config.CheckTimeout (default 60 s), shared by every call it makes to the backend. Most
// checks make fewer than ten calls. The Concurrent check starts Config.Concurrency callers
// (default 8) that each make Config.CallsPerCaller HMACs (default 20) on one key, 160 calls
// in all, within the same budget: a device that serialises calls and takes 0.4 s per HMAC
// (a per-call key derivation, a remote service) needs 64 s and fails. The failure names the
// budget, how far the check got and how long the slowest call took; raise CheckTimeout, or
// lower Concurrency and CallsPerCaller, for such a device, and say why in the test.
//
// # Errors
//
// An error must wrap exactly one of the contract's sentinels: over gRPC only one crosses
// (the first in the wire table), so an error wrapping two means different things in process
// and in the host. The kit fails such an error wherever it checks one.
package conformance

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Config says how to test a backend.
type Config struct {
	// Backend is the backend under test.
	Backend plugins.Backend
	// NewKey returns a key name that does not exist yet, with the PIN that imports and uses
	// it. Each call must return a different name.
	NewKey func(t *testing.T) plugins.Key
	// WrongPIN returns k with a PIN the device will refuse. Nil if the backend has no PINs.
	// The kit uses it exactly once per run, then the right PIN, so no device locks.
	WrongPIN func(k plugins.Key) plugins.Key
	// Concurrency is the number of concurrent callers in the Concurrent check. Default 8,
	// the number of AWS CLI processes a busy script might run at once.
	Concurrency int
	// CallsPerCaller is the number of HMACs each concurrent caller makes. Default 20. The
	// Concurrent check's Concurrency × CallsPerCaller calls share one CheckTimeout.
	CallsPerCaller int
	// CheckTimeout is the time budget of each check, shared by all its calls to the
	// backend. Default 60 s. A call still running when it runs out gets a context past its
	// deadline, and the check fails saying which setting to raise.
	CheckTimeout time.Duration
}

// DefaultCheckTimeout is Config.CheckTimeout's default.
const DefaultCheckTimeout = 60 * time.Second

// Run runs the kit as subtests of t.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Backend == nil || cfg.NewKey == nil {
		t.Fatal("conformance: Config needs Backend and NewKey")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.CallsPerCaller == 0 {
		cfg.CallsPerCaller = 20
	}
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	k := &kit{cfg: cfg, ctxs: make(map[*testing.T]context.Context)}
	k.cfg.Backend = &budgeted{Backend: cfg.Backend, cfg: &k.cfg}
	t.Run("Info", k.info)
	t.Run("ImportAndHMAC", k.importAndHMAC)
	t.Run("MessageSizes", k.messageSizes)
	t.Run("DescribeKey", k.describe)
	t.Run("NonExtractable", k.nonExtractable)
	t.Run("OverwriteRefused", k.overwrite)
	t.Run("NotFound", k.notFound)
	t.Run("WrongPIN", k.wrongPIN)
	t.Run("DeleteKey", k.deleteKey)
	t.Run("ListKeys", k.listKeys)
	t.Run("AuditLog", k.auditLog)
	t.Run("Concurrent", k.concurrent)
	t.Run("Cancellation", k.cancellation)
}

type kit struct {
	cfg Config

	mu   sync.Mutex
	ctxs map[*testing.T]context.Context
}

// ctx returns the context of t's check: every call of the check shares its deadline,
// Config.CheckTimeout from the first call.
func (k *kit) ctx(t *testing.T) context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ctx, ok := k.ctxs[t]; ok {
		return ctx
	}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), budgetKey{}, t.Name()), k.cfg.CheckTimeout)
	k.ctxs[t] = ctx
	t.Cleanup(func() {
		cancel()
		k.mu.Lock()
		delete(k.ctxs, t)
		k.mu.Unlock()
	})
	return ctx
}

// material returns a fresh "AWS4"+secret key as awskeep imports it: 4 + 40 bytes.
func material(t *testing.T) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	secret := make([]byte, 40)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	for i := range secret {
		secret[i] = alphabet[int(secret[i])%len(alphabet)]
	}
	return append([]byte("AWS4"), secret...)
}

func want(m, msg []byte) []byte {
	h := hmac.New(sha256.New, m)
	h.Write(msg)
	return h.Sum(nil)
}

// imported imports a fresh key and deletes it when the test ends.
func (k *kit) imported(t *testing.T) (plugins.Key, []byte) {
	t.Helper()
	key := k.cfg.NewKey(t)
	m := material(t)
	if err := k.cfg.Backend.ImportKey(k.ctx(t), key, m, plugins.ImportOptions{}); err != nil {
		t.Fatalf("ImportKey(%s): %v", key, err)
	}
	t.Cleanup(func() { _ = k.cfg.Backend.DeleteKey(context.Background(), key) })
	return key, m
}

func (k *kit) checkHMAC(t *testing.T, key plugins.Key, m, msg []byte) {
	t.Helper()
	got, err := k.cfg.Backend.HMAC(k.ctx(t), key, msg)
	if err != nil {
		t.Fatalf("HMAC(%s, %d bytes): %v", key, len(msg), err)
	}
	if !bytes.Equal(got, want(m, msg)) {
		t.Fatalf("HMAC(%s, %d bytes) = %x, want %x (crypto/hmac)", key, len(msg), got, want(m, msg))
	}
}

// expectErr fails unless err wraps sentinel and no other of the contract's, and checks the
// error text for the PIN.
func expectErr(t *testing.T, op string, err, sentinel error, key plugins.Key) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want an error wrapping %q", op, sentinel)
	}
	if be := (*budgetError)(nil); errors.As(err, &be) {
		t.Fatalf("%s: %v", op, err)
	}
	if ws := wrappedSentinels(err); len(ws) > 1 {
		t.Fatalf("%s: error %q (%T) wraps %d of the contract's sentinels (%s): wrap exactly one, plugins.%s; over gRPC only the first in the wire table arrives",
			op, err, err, len(ws), strings.Join(ws, ", "), sentinelName(sentinel))
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: error %q (%T) does not wrap the contract's %q: map the device's code to plugins.%s",
			op, err, err, sentinel, sentinelName(sentinel))
	}
	if key.PIN != "" && strings.Contains(err.Error(), key.PIN) {
		t.Fatalf("%s: error text contains the PIN", op)
	}
}

func (k *kit) info(t *testing.T) {
	info, err := k.cfg.Backend.Info(k.ctx(t))
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name == "" {
		t.Error("Info.Name is empty")
	}
	if major, _, _ := strings.Cut(info.ProtocolVersion, "."); major != "1" {
		t.Errorf("Info.ProtocolVersion = %q, want 1.x", info.ProtocolVersion)
	}
	u, err := keyuri.Parse(k.cfg.NewKey(t).URI)
	if err != nil {
		t.Fatalf("NewKey returned a URI that does not parse: %v", err)
	}
	if !slices.Contains(info.Schemes, u.Scheme) {
		t.Errorf("Info.Schemes = %v does not hold %q, the scheme of NewKey's URIs", info.Schemes, u.Scheme)
	}
}

func (k *kit) importAndHMAC(t *testing.T) {
	key, m := k.imported(t)
	for _, msg := range []string{"20150830", "20261124", "aws4_request"} {
		k.checkHMAC(t, key, m, []byte(msg))
	}
	// A second key gives different answers: the backend really uses the named key.
	other, m2 := k.imported(t)
	k.checkHMAC(t, other, m2, []byte("20150830"))
	k.checkHMAC(t, key, m, []byte("20150830"))
}

// messageSizes checks the empty message, the 1024-byte boundary of TPM2_HMAC, the
// backend's largest message and one byte more. A backend may declare a limit below
// plugins.MaxMessageSize in Info.MaxMessageSize when its device cannot do more.
func (k *kit) messageSizes(t *testing.T) {
	info, err := k.cfg.Backend.Info(k.ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	limit := plugins.MaxMessageSize
	if info.MaxMessageSize != 0 {
		if info.MaxMessageSize < 8 || info.MaxMessageSize > plugins.MaxMessageSize {
			t.Fatalf("Info.MaxMessageSize = %d: must be from 8 (a SigV4 date) to %d", info.MaxMessageSize, plugins.MaxMessageSize)
		}
		limit = info.MaxMessageSize
		t.Logf("backend declares a message limit of %d bytes", limit)
	}
	key, m := k.imported(t)
	msg := make([]byte, limit)
	if _, err := rand.Read(msg); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 8, 1024, 1025, limit} {
		if size <= limit {
			k.checkHMAC(t, key, m, msg[:size])
		}
	}
	_, err = k.cfg.Backend.HMAC(k.ctx(t), key, make([]byte, limit+1))
	expectErr(t, fmt.Sprintf("HMAC of %d bytes, one more than the limit", limit+1), err, plugins.ErrMessageTooLarge, key)
}

func (k *kit) describe(t *testing.T) {
	key, _ := k.imported(t)
	d, err := k.cfg.Backend.DescribeKey(k.ctx(t), key)
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if !d.Exists {
		t.Fatal("DescribeKey of an imported key says Exists false")
	}
	if d.Algorithm != plugins.AlgorithmHMACSHA256 {
		t.Errorf("Algorithm = %q, want %q", d.Algorithm, plugins.AlgorithmHMACSHA256)
	}
	missing := k.cfg.NewKey(t)
	d, err = k.cfg.Backend.DescribeKey(k.ctx(t), missing)
	if err != nil {
		t.Fatalf("DescribeKey of a missing key: %v (want Exists false and no error)", err)
	}
	if d.Exists {
		t.Fatal("DescribeKey of a key never imported says Exists true")
	}
}

// nonExtractable holds each imported key to what the backend claims about its storage:
// a device (CapabilityNonExtractable) reports Extractable false and Sensitive true; a
// software-wrapped store (CapabilitySoftwareWrapped) reports honestly that the key can be
// recovered, Extractable true and Sensitive false; any other backend reports Extractable
// false, the contract's own promise that no operation exports a key.
func (k *kit) nonExtractable(t *testing.T) {
	info, err := k.cfg.Backend.Info(k.ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	device := slices.Contains(info.Capabilities, plugins.CapabilityNonExtractable)
	wrapped := slices.Contains(info.Capabilities, plugins.CapabilitySoftwareWrapped)
	if device && wrapped {
		t.Fatalf("Info.Capabilities = %v claims both %q and %q: a key is either held by a device or decrypted into the plugin's memory",
			info.Capabilities, plugins.CapabilityNonExtractable, plugins.CapabilitySoftwareWrapped)
	}
	key, _ := k.imported(t)
	d, err := k.cfg.Backend.DescribeKey(k.ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	if wrapped {
		if !d.Extractable || d.Sensitive {
			t.Fatalf("backend claims %q but DescribeKey reports Extractable %v, Sensitive %v: a key decrypted into the plugin's memory is recoverable by anyone with its file and the wrapping key; report Extractable true and Sensitive false",
				plugins.CapabilitySoftwareWrapped, d.Extractable, d.Sensitive)
		}
		t.Logf("backend %q declares %q: the key is extractable by whoever has its file and the wrapping key, and the description says so",
			info.Name, plugins.CapabilitySoftwareWrapped)
		return
	}
	if d.Extractable {
		t.Fatalf("an imported key reports Extractable true; awskeep keys must never leave the device (a backend that keeps keys encrypted and decrypts them in memory declares plugins.CapabilitySoftwareWrapped)")
	}
	if !device {
		t.Logf("backend %q does not claim %q: only the contract's own promise (no operation exports a key) is checked",
			info.Name, plugins.CapabilityNonExtractable)
		return
	}
	if !d.Sensitive {
		t.Fatal("backend claims non-extractable storage but the key reports Sensitive false")
	}
}

func (k *kit) overwrite(t *testing.T) {
	key, m := k.imported(t)
	err := k.cfg.Backend.ImportKey(k.ctx(t), key, material(t), plugins.ImportOptions{})
	expectErr(t, "second ImportKey without Overwrite", err, plugins.ErrKeyExists, key)
	k.checkHMAC(t, key, m, []byte("20150830")) // the refused import changed nothing
	replacement := material(t)
	if err := k.cfg.Backend.ImportKey(k.ctx(t), key, replacement, plugins.ImportOptions{Overwrite: true}); err != nil {
		t.Fatalf("ImportKey with Overwrite: %v", err)
	}
	k.checkHMAC(t, key, replacement, []byte("20150830"))
}

func (k *kit) notFound(t *testing.T) {
	key := k.cfg.NewKey(t)
	_, err := k.cfg.Backend.HMAC(k.ctx(t), key, []byte("20150830"))
	expectErr(t, "HMAC with a key never imported", err, plugins.ErrKeyNotFound, key)
	err = k.cfg.Backend.DeleteKey(k.ctx(t), key)
	expectErr(t, "DeleteKey of a key never imported", err, plugins.ErrKeyNotFound, key)
}

func (k *kit) wrongPIN(t *testing.T) {
	if k.cfg.WrongPIN == nil {
		t.Log("Config.WrongPIN is nil: the backend has no PINs, nothing to check")
		return
	}
	key, m := k.imported(t)
	wrong := k.cfg.WrongPIN(key)
	if wrong.PIN == key.PIN {
		t.Fatal("Config.WrongPIN returned the right PIN")
	}
	_, err := k.cfg.Backend.HMAC(k.ctx(t), wrong, []byte("20150830"))
	expectErr(t, "HMAC with a wrong PIN", err, plugins.ErrPINIncorrect, wrong)
	if strings.Contains(err.Error(), key.PIN) {
		t.Fatal("the wrong-PIN error text contains the right PIN")
	}
	// One failure must not lock the key, and the right PIN must work right after.
	k.checkHMAC(t, key, m, []byte("20150830"))
}

func (k *kit) deleteKey(t *testing.T) {
	key := k.cfg.NewKey(t)
	if err := k.cfg.Backend.ImportKey(k.ctx(t), key, material(t), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := k.cfg.Backend.DeleteKey(k.ctx(t), key); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	d, err := k.cfg.Backend.DescribeKey(k.ctx(t), key)
	if err != nil || d.Exists {
		t.Fatalf("after DeleteKey, DescribeKey = %+v, %v; want Exists false", d, err)
	}
	_, err = k.cfg.Backend.HMAC(k.ctx(t), key, []byte("20150830"))
	expectErr(t, "HMAC after DeleteKey", err, plugins.ErrKeyNotFound, key)
	// The name is free again.
	m := material(t)
	if err := k.cfg.Backend.ImportKey(k.ctx(t), key, m, plugins.ImportOptions{}); err != nil {
		t.Fatalf("ImportKey after DeleteKey: %v", err)
	}
	t.Cleanup(func() { _ = k.cfg.Backend.DeleteKey(context.Background(), key) })
	k.checkHMAC(t, key, m, []byte("20150830"))
}

func (k *kit) concurrent(t *testing.T) {
	key, m := k.imported(t)
	ctx := k.ctx(t)
	var (
		wg   sync.WaitGroup
		done atomic.Int64
	)
	errs := make(chan error, k.cfg.Concurrency)
	for c := range k.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range k.cfg.CallsPerCaller {
				msg := fmt.Appendf(nil, "caller %d call %d", c, i)
				got, err := k.cfg.Backend.HMAC(ctx, key, msg)
				if err != nil {
					errs <- fmt.Errorf("caller %d call %d: %w", c, i, err)
					return
				}
				if !bytes.Equal(got, want(m, msg)) {
					errs <- fmt.Errorf("caller %d call %d: wrong HMAC %x", c, i, got)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var overBudget []error
	for err := range errs {
		if be := (*budgetError)(nil); errors.As(err, &be) {
			overBudget = append(overBudget, err)
			continue
		}
		t.Error(err)
	}
	if len(overBudget) > 0 {
		t.Errorf("%d of %d HMACs (Config.Concurrency %d × Config.CallsPerCaller %d) were done when the budget ran out, %d callers stopped; the first: %v",
			done.Load(), k.cfg.Concurrency*k.cfg.CallsPerCaller, k.cfg.Concurrency, k.cfg.CallsPerCaller, len(overBudget), overBudget[0])
	}
}

func (k *kit) cancellation(t *testing.T) {
	key, _ := k.imported(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := k.cfg.Backend.HMAC(cancelled, key, []byte("20150830"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("HMAC with a cancelled context: %v, want context.Canceled", err)
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	err = k.cfg.Backend.ImportKey(expired, k.cfg.NewKey(t), material(t), plugins.ImportOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ImportKey past its deadline: %v, want context.DeadlineExceeded", err)
	}
}

// wrappedSentinels names the contract's sentinels err wraps.
func wrappedSentinels(err error) []string {
	var names []string
	for _, s := range sentinelOrder {
		if errors.Is(err, s) {
			names = append(names, sentinelNames[s])
		}
	}
	return names
}

var sentinelOrder = []error{
	plugins.ErrKeyNotFound, plugins.ErrPINIncorrect, plugins.ErrPINLocked, plugins.ErrDeviceUnavailable,
	plugins.ErrKeyExists, plugins.ErrAmbiguousKey, plugins.ErrUnsupported, plugins.ErrInvalidKeyURI,
	plugins.ErrPermissionDenied, plugins.ErrMessageTooLarge, plugins.ErrDevice,
}

var sentinelNames = map[error]string{
	plugins.ErrKeyNotFound: "ErrKeyNotFound", plugins.ErrPINIncorrect: "ErrPINIncorrect",
	plugins.ErrPINLocked: "ErrPINLocked", plugins.ErrDeviceUnavailable: "ErrDeviceUnavailable",
	plugins.ErrKeyExists: "ErrKeyExists", plugins.ErrAmbiguousKey: "ErrAmbiguousKey",
	plugins.ErrUnsupported: "ErrUnsupported", plugins.ErrInvalidKeyURI: "ErrInvalidKeyURI",
	plugins.ErrPermissionDenied: "ErrPermissionDenied", plugins.ErrMessageTooLarge: "ErrMessageTooLarge",
	plugins.ErrDevice: "ErrDevice",
}

func sentinelName(err error) string { return sentinelNames[err] }
