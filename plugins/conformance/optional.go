package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The optional operations of protocol 1.3. A backend that claims one in Info.Capabilities
// is held to it; one that does not claim it must answer ErrUnsupported, which is what the
// SDK answers for a backend without the interface.

// claims reports whether the backend's Info names capability.
func (k *kit) claims(t *testing.T, capability string) (plugins.Info, bool) {
	t.Helper()
	info, err := k.cfg.Backend.Info(k.ctx(t))
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	return info, slices.Contains(info.Capabilities, capability)
}

// listKeys checks ListKeys (CapabilityListKeys): two imported keys appear as two new
// entries whose URIs name them (an HMAC through each URI gives that key's answer), no entry
// URI carries a PIN or says where one is, a deleted key is gone from the next list, and a
// creation time, where the device gives one, is about now.
func (k *kit) listKeys(t *testing.T) {
	info, claimed := k.claims(t, plugins.CapabilityListKeys)
	lister := k.cfg.Backend.(plugins.KeyLister) // budgeted always is one
	probe := k.cfg.NewKey(t)
	if !claimed {
		_, err := lister.ListKeys(k.ctx(t), probe)
		expectErr(t, fmt.Sprintf("ListKeys of a backend that does not claim %q", plugins.CapabilityListKeys), err, plugins.ErrUnsupported, probe)
		t.Logf("backend %q does not claim %q: it answers ErrUnsupported, as it must", info.Name, plugins.CapabilityListKeys)
		return
	}
	// The URI of a key not imported yet names the device; its object part is ignored.
	before, err := lister.ListKeys(k.ctx(t), probe)
	if err != nil {
		t.Fatalf("ListKeys(%s) before import: %v", probe, err)
	}
	k1, m1 := k.imported(t)
	k2, m2 := k.imported(t)
	after, err := lister.ListKeys(k.ctx(t), k1)
	if err != nil {
		t.Fatalf("ListKeys(%s): %v", k1, err)
	}
	for _, e := range after {
		checkEntryURI(t, info, e, k1)
	}
	fresh := newEntries(before, after)
	if len(fresh) != 2 {
		t.Fatalf("ListKeys lists %d entries before importing two keys and %d after, %d of them new (%v); want the two imported keys",
			len(before), len(after), len(fresh), entryURIs(fresh))
	}
	// Which entry is which key: an HMAC through the entry's URI says, and proves the URI
	// names the key. Each is tried with its own key's PIN first, so no wrong PIN is spent
	// when the keys' PINs are the device's login PIN.
	matched := map[int]plugins.KeyEntry{}
	for _, e := range fresh {
		n, err := k.whichKey(t, e, []plugins.Key{k1, k2}, [][]byte{m1, m2})
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := matched[n]; dup {
			t.Fatalf("entries %q and %q both name imported key %d", prev.URI, e.URI, n+1)
		}
		matched[n] = e
		if !e.Created.IsZero() {
			if d := time.Since(e.Created); d < -48*time.Hour || d > 48*time.Hour {
				t.Errorf("entry %q: Created = %v for a key imported just now; leave it zero when the device does not know", e.URI, e.Created)
			}
		}
	}
	if err := k.cfg.Backend.DeleteKey(k.ctx(t), k2); err != nil {
		t.Fatalf("DeleteKey(%s): %v", k2, err)
	}
	again, err := lister.ListKeys(k.ctx(t), k1)
	if err != nil {
		t.Fatalf("ListKeys after DeleteKey: %v", err)
	}
	uris := entryURIs(again)
	if slices.Contains(uris, matched[1].URI) {
		t.Errorf("ListKeys still lists %q after DeleteKey(%s)", matched[1].URI, k2)
	}
	if !slices.Contains(uris, matched[0].URI) {
		t.Errorf("ListKeys no longer lists %q, deleting another key took it away", matched[0].URI)
	}
}

// checkEntryURI fails an entry whose URI is not a key URI of the backend's schemes or gives
// away a PIN or where one is kept.
func checkEntryURI(t *testing.T, info plugins.Info, e plugins.KeyEntry, key plugins.Key) {
	t.Helper()
	u, err := keyuri.Parse(e.URI)
	if err != nil {
		t.Fatalf("ListKeys entry URI %q is not a key URI: %v", e.URI, err)
	}
	if !slices.Contains(info.Schemes, u.Scheme) {
		t.Fatalf("ListKeys entry URI %q has scheme %q, not one of Info.Schemes %v", e.URI, u.Scheme, info.Schemes)
	}
	for _, a := range []string{keyuri.PINValue, keyuri.PINSource} {
		if _, ok := u.QueryAttr(a); ok {
			t.Fatalf("ListKeys entry URI %q carries %s: entries name keys, the host adds how to find the PIN", e.URI, a)
		}
	}
	if key.PIN != "" && strings.Contains(e.URI+e.Label+fmt.Sprint(e.Attributes), key.PIN) {
		t.Fatalf("ListKeys entry %q holds the PIN", e.URI)
	}
}

// whichKey returns the index of the imported key the entry names, by HMAC through the
// entry's URI.
func (k *kit) whichKey(t *testing.T, e plugins.KeyEntry, keys []plugins.Key, materials [][]byte) (int, error) {
	t.Helper()
	msg := []byte("20150830")
	var lastErr error
	for _, pin := range []string{keys[0].PIN, keys[1].PIN} {
		mac, err := k.cfg.Backend.HMAC(k.ctx(t), plugins.Key{URI: e.URI, PIN: pin}, msg)
		if errors.Is(err, plugins.ErrPINIncorrect) && keys[1].PIN != keys[0].PIN {
			lastErr = err
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("HMAC through ListKeys entry URI %q: %v (an entry's URI must name its key)", e.URI, err)
		}
		for i, m := range materials {
			if bytes.Equal(mac, want(m, msg)) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("ListKeys entry %q is new since the import but is neither imported key (its HMAC matches neither)", e.URI)
	}
	return 0, fmt.Errorf("HMAC through ListKeys entry URI %q: %v", e.URI, lastErr)
}

func newEntries(before, after []plugins.KeyEntry) []plugins.KeyEntry {
	old := entryURIs(before)
	var fresh []plugins.KeyEntry
	for _, e := range after {
		if !slices.Contains(old, e.URI) {
			fresh = append(fresh, e)
		}
	}
	return fresh
}

func entryURIs(entries []plugins.KeyEntry) []string {
	uris := make([]string, len(entries))
	for i, e := range entries {
		uris[i] = e.URI
	}
	return uris
}

// cmdSignHMAC is the YubiHSM 2's Sign HMAC command code (Yubico, YubiHSM 2 commands
// reference); a successful command's log entry has Result cmdSignHMAC|0x80.
const cmdSignHMAC = 0x53

// auditLog checks AuditLog (CapabilityAuditLog) as the YubiHSM 2 keeps its log: every entry
// follows the one numbered before it in the digest chain, an HMAC made between two reads
// appears as a Sign HMAC entry (the device logs every command unless configured not to;
// the kit expects the default), and marking entries read takes them out of the next read.
func (k *kit) auditLog(t *testing.T) {
	info, claimed := k.claims(t, plugins.CapabilityAuditLog)
	reader := k.cfg.Backend.(plugins.AuditLogReader) // budgeted always is one
	key, m := k.imported(t)
	if !claimed {
		_, err := reader.AuditLog(k.ctx(t), key, plugins.AuditLogRequest{})
		expectErr(t, fmt.Sprintf("AuditLog of a backend that does not claim %q", plugins.CapabilityAuditLog), err, plugins.ErrUnsupported, key)
		t.Logf("backend %q does not claim %q: it answers ErrUnsupported, as it must", info.Name, plugins.CapabilityAuditLog)
		return
	}
	first, err := reader.AuditLog(k.ctx(t), key, plugins.AuditLogRequest{})
	if err != nil {
		t.Fatalf("AuditLog: %v", err)
	}
	checkChain(t, first.Entries)
	k.checkHMAC(t, key, m, []byte("20150830"))
	second, err := reader.AuditLog(k.ctx(t), key, plugins.AuditLogRequest{})
	if err != nil {
		t.Fatalf("AuditLog: %v", err)
	}
	checkChain(t, second.Entries)
	if len(second.Entries) == 0 {
		t.Fatal("AuditLog after an HMAC returned no entries")
	}
	var last uint16
	if n := len(first.Entries); n > 0 {
		last = first.Entries[n-1].Number
	}
	signed := false
	for _, e := range second.Entries {
		if len(first.Entries) > 0 && !newer(e.Number, last) {
			continue
		}
		if e.Command == cmdSignHMAC && e.Result == cmdSignHMAC|0x80 {
			signed = true
		}
	}
	if !signed {
		t.Fatalf("the HMAC made between two AuditLog reads left no successful Sign HMAC (0x%02x) entry in the second read (%d entries)", cmdSignHMAC, len(second.Entries))
	}
	through := second.Entries[len(second.Entries)-1].Number
	if _, err := reader.AuditLog(k.ctx(t), key, plugins.AuditLogRequest{MarkRead: true, MarkReadThrough: through}); err != nil {
		t.Fatalf("AuditLog with MarkRead through %d: %v", through, err)
	}
	third, err := reader.AuditLog(k.ctx(t), key, plugins.AuditLogRequest{})
	if err != nil {
		t.Fatalf("AuditLog after MarkRead: %v", err)
	}
	for _, e := range third.Entries {
		if !newer(e.Number, through) {
			t.Fatalf("after marking the log read through entry %d, AuditLog still returns entry %d", through, e.Number)
		}
	}
}

// newer reports whether entry number a comes after b; the 16-bit numbers wrap around.
func newer(a, b uint16) bool { return int16(a-b) > 0 }

// checkChain fails when an entry does not follow the one numbered before it.
func checkChain(t *testing.T, entries []plugins.AuditLogEntry) {
	t.Helper()
	for i := 1; i < len(entries); i++ {
		prev, e := entries[i-1], entries[i]
		if e.Number != prev.Number+1 {
			continue // a gap: entries marked read or overwritten in between
		}
		if !e.Follows(prev) {
			t.Fatalf("audit log entry %d does not follow entry %d in the digest chain (digest %x)", e.Number, prev.Number, e.Digest)
		}
	}
}
