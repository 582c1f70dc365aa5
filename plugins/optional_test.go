package plugins_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// listerBackend is errorBackend with the optional operations of protocol 1.3. ListKeys
// returns two entries; AuditLog returns a two-entry chained log and reports the request it
// got through the unlogged counts, so the test sees what crossed the wire.
type listerBackend struct{ errorBackend }

var listed = []plugins.KeyEntry{
	{URI: "lister:name=a", Label: "a", Created: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Attributes: map[string]string{"id": "01"}},
	{URI: "lister:name=b"},
}

func (listerBackend) ListKeys(_ context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	if key.URI != "lister:" || key.PIN != "1234" {
		return nil, plugins.ErrKeyNotFound
	}
	return listed, nil
}

func chainedLog() []plugins.AuditLogEntry {
	first := plugins.AuditLogEntry{Number: 7, Command: 0x53, Length: 10, SessionKey: 1, TargetKey: 0x10, SecondKey: 0xffff, Result: 0xd3, Tick: 123456}
	second := plugins.AuditLogEntry{Number: 8, Command: 0x40, SessionKey: 1, TargetKey: 0xffff, SecondKey: 0xffff, Result: 0xc0, Tick: 123999}
	sum := sha256.Sum256(append(second.Bytes()[:16], first.Digest[:]...))
	copy(second.Digest[:], sum[:16])
	return []plugins.AuditLogEntry{first, second}
}

func (listerBackend) AuditLog(_ context.Context, key plugins.Key, req plugins.AuditLogRequest) (plugins.AuditLogResult, error) {
	r := plugins.AuditLogResult{Entries: chainedLog()}
	if req.MarkRead {
		r.UnloggedBoots, r.UnloggedAuths = 1, req.MarkReadThrough
	}
	return r, nil
}

func TestOptionalOperationsOverGRPC(t *testing.T) {
	ctx := context.Background()
	t.Run("ListKeys", func(t *testing.T) {
		p, err := launch(t, "lister")
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.ListKeys(ctx, plugins.Key{URI: "lister:", PIN: "1234"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, listed) {
			t.Fatalf("ListKeys = %+v, want %+v", got, listed)
		}
		_, err = p.ListKeys(ctx, plugins.Key{URI: "lister:", PIN: "0000"})
		if !errors.Is(err, plugins.ErrKeyNotFound) {
			t.Fatalf("error did not keep its identity: %v", err)
		}
	})
	t.Run("AuditLog", func(t *testing.T) {
		p, err := launch(t, "lister")
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.AuditLog(ctx, plugins.Key{URI: "lister:"}, plugins.AuditLogRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if want := (plugins.AuditLogResult{Entries: chainedLog()}); !reflect.DeepEqual(got, want) {
			t.Fatalf("AuditLog = %+v, want %+v", got, want)
		}
		if !got.Entries[1].Follows(got.Entries[0]) {
			t.Fatal("the chain broke on the way")
		}
		got, err = p.AuditLog(ctx, plugins.Key{URI: "lister:"}, plugins.AuditLogRequest{MarkRead: true, MarkReadThrough: 0xfffe})
		if err != nil || got.UnloggedBoots != 1 || got.UnloggedAuths != 0xfffe {
			t.Fatalf("MarkRead did not arrive: %+v, %v", got, err)
		}
	})
	t.Run("AuditLog entries that do not fit the device's encoding", func(t *testing.T) {
		p, err := launch(t, "badaudit")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.AuditLog(ctx, plugins.Key{URI: "errors:"}, plugins.AuditLogRequest{})
		if !errors.Is(err, plugins.ErrDevice) || !strings.Contains(err.Error(), "does not fit") {
			t.Fatalf("a malformed entry: %v, want ErrDevice", err)
		}
	})
	// A 1.3 plugin whose backend lacks the interfaces answers with the contract's code.
	t.Run("backend without the operations", func(t *testing.T) {
		p, err := launch(t, "errors")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ListKeys(ctx, plugins.Key{URI: "errors:"}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("ListKeys: %v, want ErrUnsupported", err)
		}
		if _, err := p.AuditLog(ctx, plugins.Key{URI: "errors:"}, plugins.AuditLogRequest{}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("AuditLog: %v, want ErrUnsupported", err)
		}
	})
	// A plugin built before 1.3 does not know the RPCs at all.
	t.Run("plugin built for protocol 1.2", func(t *testing.T) {
		p, err := launch(t, "v12")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.HMAC(ctx, plugins.Key{}, []byte("ErrKeyNotFound")); !errors.Is(err, plugins.ErrKeyNotFound) {
			t.Fatalf("the 1.2 plugin does not serve: %v", err)
		}
		_, err = p.ListKeys(ctx, plugins.Key{URI: "errors:"})
		if !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "older protocol") {
			t.Fatalf("ListKeys: %v, want ErrUnsupported naming the older protocol", err)
		}
		if errors.Is(err, plugins.ErrDevice) {
			t.Fatalf("ListKeys: %v is ErrDevice too", err)
		}
		if _, err := p.AuditLog(ctx, plugins.Key{URI: "errors:"}, plugins.AuditLogRequest{}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("AuditLog: %v, want ErrUnsupported", err)
		}
	})
	t.Run("in process", func(t *testing.T) {
		if _, err := plugins.ListKeys(ctx, errorBackend{}, plugins.Key{}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("ListKeys of a backend without it: %v", err)
		}
		if _, err := plugins.ReadAuditLog(ctx, errorBackend{}, plugins.Key{}, plugins.AuditLogRequest{}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("ReadAuditLog of a backend without it: %v", err)
		}
		got, err := plugins.ListKeys(ctx, listerBackend{}, plugins.Key{URI: "lister:", PIN: "1234"})
		if err != nil || len(got) != 2 || !maps.Equal(got[0].Attributes, listed[0].Attributes) {
			t.Fatalf("ListKeys in process: %+v, %v", got, err)
		}
	})
}

// TestAuditLogEntryBytes is a known answer: the entry packed by Python's
// struct.pack("!HBHHHHBL16s", 7, 0x53, 10, 1, 0x10, 0xffff, 0xd3, 123456, bytes(range(16))),
// the layout of python-yubihsm's core.LogEntry.
func TestAuditLogEntryBytes(t *testing.T) {
	e := plugins.AuditLogEntry{Number: 7, Command: 0x53, Length: 10, SessionKey: 1, TargetKey: 0x10, SecondKey: 0xffff, Result: 0xd3, Tick: 123456}
	for i := range e.Digest {
		e.Digest[i] = byte(i)
	}
	const want = "000753000a00010010ffffd30001e240000102030405060708090a0b0c0d0e0f"
	if got := hex.EncodeToString(e.Bytes()); got != want {
		t.Fatalf("Bytes = %s, want %s", got, want)
	}
	b, _ := hex.DecodeString(want)
	if got, err := plugins.ParseAuditLogEntry(b); err != nil || got != e {
		t.Fatalf("ParseAuditLogEntry = %+v, %v; want %+v", got, err, e)
	}
	// The chain: each digest covers the entry's first 16 bytes and the previous digest.
	log := chainedLog()
	if !log[1].Follows(log[0]) {
		t.Fatal("a chained entry does not follow its predecessor")
	}
	tampered := log[1]
	tampered.TargetKey = 0x11
	if tampered.Follows(log[0]) {
		t.Fatal("an altered entry still follows its predecessor")
	}
	other := log[0]
	other.Digest[0] ^= 1
	if log[1].Follows(other) {
		t.Fatal("an entry follows a predecessor whose digest changed")
	}
}

// FuzzParseAuditLogEntry holds ParseAuditLogEntry to its contract: every 32-byte input
// decodes and encodes back to itself with Bytes, any other length is ErrDevice.
func FuzzParseAuditLogEntry(f *testing.F) {
	for _, e := range chainedLog() {
		f.Add(e.Bytes())
	}
	f.Add(make([]byte, plugins.AuditLogEntrySize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := plugins.ParseAuditLogEntry(b)
		if err != nil {
			if !errors.Is(err, plugins.ErrDevice) || len(b) == plugins.AuditLogEntrySize {
				t.Fatalf("refused %x: %v", b, err)
			}
			return
		}
		if !bytes.Equal(e.Bytes(), b) {
			t.Fatalf("round trip %x -> %x", b, e.Bytes())
		}
	})
}
