package audit

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// Fuzz targets for everything awskeep audit parses: the log's chain, --outside-hours, --since
// and the state file. The entry parser is the SDK's, fuzzed where it lives
// (FuzzParseAuditLogEntry in package plugins).

func FuzzVerifyChain(f *testing.F) {
	var all []byte
	for _, h := range yubicoExample {
		b, _ := hex.DecodeString(h)
		all = append(all, b...)
	}
	f.Add(all, uint16(45), "00112233445566778899aabbccddeeff")
	f.Add(all[:64], uint16(47), "5496a60d478c2b9c801d8d32ca66b554")
	f.Fuzz(func(t *testing.T, b []byte, n uint16, digest string) {
		var entries []plugins.AuditLogEntry
		for len(b) >= plugins.AuditLogEntrySize {
			e, _ := plugins.ParseAuditLogEntry(b[:plugins.AuditLogEntrySize])
			entries = append(entries, e)
			b = b[plugins.AuditLogEntrySize:]
		}
		c, err := VerifyChain(entries, &Checkpoint{Number: n, Digest: digest})
		var te *TamperError
		if err != nil && !errors.As(err, &te) {
			if _, derr := (&Checkpoint{Digest: digest}).digest(); derr == nil {
				t.Fatalf("error of unknown kind: %v", err)
			}
		}
		if err == nil && (c.New < 0 || c.New > len(entries)) {
			t.Fatalf("New %d of %d entries", c.New, len(entries))
		}
	})
}

func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"08:00-18:00", "22:00-06:00", "9:30-24:00", "24:00-01:00", "08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHours(s)
		if err != nil {
			return
		}
		again, err := ParseHours(h.String())
		if err != nil || again != h {
			t.Fatalf("%q -> %s -> %v, %v", s, h, again, err)
		}
	})
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "2026-11-30T08:00:00Z", "2026-11-30 08:00", "2026-11-30", "-1h"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now, time.UTC)
		if err == nil && got.IsZero() {
			t.Fatalf("%q: zero time accepted", s)
		}
	})
}

func FuzzParseState(f *testing.F) {
	st := State{Version: 1, Device: "yubihsm:connector=http://127.0.0.1:1", Last: &Checkpoint{Number: 3, Digest: "00112233445566778899aabbccddeeff"},
		Boot: &Boot{Entry: &Checkpoint{Number: 2, Digest: "ffeeddccbbaa99887766554433221100"}, Anchors: []Anchor{{Tick: 5, Time: time.Unix(1, 0).UTC()}}}}
	b, _ := json.Marshal(st)
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseState(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseState(again); err != nil {
			t.Fatalf("state %s does not parse again: %v", again, err)
		}
	})
}
