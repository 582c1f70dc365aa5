package example_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/awskeep/awskeep/plugins/example"
)

// optional is the example backend with the optional operations of protocol 1.3 added in
// software, to test the kit's checks of them: ListKeys lists the keys imported through it,
// and AuditLog keeps a YubiHSM 2 style log of its HMACs (entries chained by digest, Sign
// HMAC 0x53). The flags make it break one promise each.
type optional struct {
	*example.Backend
	claimList, claimAudit bool // what Info claims
	keepDeleted           bool // ListKeys goes on listing deleted keys
	pinSourceInURI        bool // entry URIs carry a pin-source
	breakChain            bool // each entry's digest skips the previous one
	ignoreMark            bool // MarkRead marks nothing

	mu     sync.Mutex
	names  []string
	log    []plugins.AuditLogEntry
	number uint16
}

func (o *optional) Info(ctx context.Context) (plugins.Info, error) {
	info, err := o.Backend.Info(ctx)
	if o.claimList {
		info.Capabilities = append(slices.Clone(info.Capabilities), plugins.CapabilityListKeys)
	}
	if o.claimAudit {
		info.Capabilities = append(slices.Clone(info.Capabilities), plugins.CapabilityAuditLog)
	}
	return info, err
}

func (o *optional) ImportKey(ctx context.Context, k plugins.Key, m []byte, opts plugins.ImportOptions) error {
	if err := o.Backend.ImportKey(ctx, k, m, opts); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !slices.Contains(o.names, k.URI) {
		o.names = append(o.names, k.URI)
	}
	return nil
}

func (o *optional) DeleteKey(ctx context.Context, k plugins.Key) error {
	if err := o.Backend.DeleteKey(ctx, k); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.keepDeleted {
		o.names = slices.DeleteFunc(o.names, func(n string) bool { return n == k.URI })
	}
	return nil
}

func (o *optional) ListKeys(ctx context.Context, _ plugins.Key) ([]plugins.KeyEntry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var entries []plugins.KeyEntry
	for _, n := range o.names {
		uri := n
		if o.pinSourceInURI {
			uri += "?pin-source=/run/pin"
		}
		label := strings.TrimPrefix(n, "example:name=")
		entries = append(entries, plugins.KeyEntry{URI: uri, Label: label, Created: time.Now()})
	}
	return entries, nil
}

func (o *optional) HMAC(ctx context.Context, k plugins.Key, msg []byte) ([]byte, error) {
	mac, err := o.Backend.HMAC(ctx, k, msg)
	result := uint8(0x53 | 0x80)
	if err != nil {
		result = 0x7f
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.number++
	e := plugins.AuditLogEntry{Number: o.number, Command: 0x53, Length: uint16(2 + len(msg)), SessionKey: 1, TargetKey: 0x10, SecondKey: 0xffff, Result: result, Tick: uint32(o.number) * 10}
	var prev [16]byte
	if n := len(o.log); n > 0 && !o.breakChain {
		prev = o.log[n-1].Digest
	}
	sum := sha256.Sum256(append(e.Bytes()[:16], prev[:]...))
	copy(e.Digest[:], sum[:16])
	o.log = append(o.log, e)
	return mac, err
}

func (o *optional) AuditLog(_ context.Context, _ plugins.Key, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := plugins.AuditLogResult{Entries: slices.Clone(o.log)}
	if req.MarkRead && !o.ignoreMark {
		o.log = slices.DeleteFunc(o.log, func(e plugins.AuditLogEntry) bool { return int16(e.Number-req.MarkReadThrough) <= 0 })
	}
	return out, nil
}

func init() {
	for name, o := range map[string]func() *optional{
		"list-unclaimed":       func() *optional { return &optional{} },
		"list-keeps-deleted":   func() *optional { return &optional{claimList: true, keepDeleted: true} },
		"list-pin-source":      func() *optional { return &optional{claimList: true, pinSourceInURI: true} },
		"audit-unclaimed":      func() *optional { return &optional{} },
		"audit-broken-chain":   func() *optional { return &optional{claimAudit: true, breakChain: true} },
		"audit-ignores-marker": func() *optional { return &optional{claimAudit: true, ignoreMark: true} },
	} {
		kitVariants[name] = func() conformance.Config {
			b := o()
			b.Backend = example.New()
			return conformance.Config{Backend: b}
		}
	}
	// Claims both operations and implements neither.
	kitVariants["claims-without-implementing"] = func() conformance.Config {
		return conformance.Config{Backend: wrappedClaims{example.New()}}
	}
}

type wrappedClaims struct{ *example.Backend }

func (w wrappedClaims) Info(ctx context.Context) (plugins.Info, error) {
	info, err := w.Backend.Info(ctx)
	info.Capabilities = append(slices.Clone(info.Capabilities), plugins.CapabilityListKeys, plugins.CapabilityAuditLog)
	return info, err
}

func TestKitAcceptsOptionalOperations(t *testing.T) {
	conformance.Run(t, conformance.Config{
		Backend: &optional{Backend: example.New(), claimList: true, claimAudit: true},
		NewKey:  newKey, WrongPIN: wrongPIN,
	})
}

func TestKitRejectsBrokenOptionalOperations(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    []string
	}{
		{"list-unclaimed", []string{"--- FAIL: TestKitChild/ListKeys", `ListKeys of a backend that does not claim "list-keys": succeeded, want an error wrapping "not supported"`}},
		{"list-keeps-deleted", []string{"--- FAIL: TestKitChild/ListKeys", "ListKeys still lists \"example:name=key-"}},
		{"list-pin-source", []string{"--- FAIL: TestKitChild/ListKeys", "carries pin-source"}},
		{"audit-unclaimed", []string{"--- FAIL: TestKitChild/AuditLog", `AuditLog of a backend that does not claim "audit-log": succeeded`}},
		{"audit-broken-chain", []string{"--- FAIL: TestKitChild/AuditLog", "does not follow entry"}},
		{"audit-ignores-marker", []string{"--- FAIL: TestKitChild/AuditLog", "after marking the log read through entry"}},
		{"claims-without-implementing", []string{
			"--- FAIL: TestKitChild/ListKeys", "ListKeys(example:name=key-", "before import: list keys: not supported",
			"--- FAIL: TestKitChild/AuditLog", "AuditLog: audit log: not supported",
		}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			out := runKitChild(t, tc.variant)
			for _, w := range append(tc.want, "--- PASS: TestKitChild/ImportAndHMAC") {
				if !strings.Contains(out, w) {
					t.Errorf("kit output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
