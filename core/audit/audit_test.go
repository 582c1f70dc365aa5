package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// Yubico's GET LOG ENTRIES command page, shell example (also checked in plugin-yubihsm).
var yubicoExample = []string{
	"002e4b00ea0001cf94997ecb00051f6d415f51f1f035a1b713e730e4464e4033",
	"002f4c004d0001aff7ffffcc00055de25496a60d478c2b9c801d8d32ca66b554",
	"0030000000ffff00000000000000000014ac7747ba9bbb243cfc70befeb5349b",
	"003103000affff0001ffff830000008bb20a8f25c025e693a8e869b433294a20",
	"0032040011ffff0001ffff840000008bebfae425c319ac7a0afbb8b92597de7c",
	"00336700020001ffffffffe7000002b92e395d1b706668737e1d2215813db47e",
}

func parseAll(t *testing.T, hexes []string) []plugins.AuditLogEntry {
	t.Helper()
	var out []plugins.AuditLogEntry
	for _, h := range hexes {
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		e, err := plugins.ParseAuditLogEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestVerifyChainPublished(t *testing.T) {
	entries := parseAll(t, yubicoExample)
	if entries[3].Number != 49 || entries[3].Command != 0x03 || entries[3].Tick != 139 {
		t.Fatalf("parsed %+v", entries[3])
	}
	c, err := VerifyChain(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.From != "entry 46" {
		t.Errorf("From = %q", c.From)
	}
	for i := 1; i < len(entries); i++ {
		bad := append([]plugins.AuditLogEntry(nil), entries...)
		bad[i].TargetKey ^= 1
		_, err := VerifyChain(bad, nil)
		var te *TamperError
		if !errors.As(err, &te) || te.Number != bad[i].Number || !errors.Is(err, ErrTampered) {
			t.Fatalf("entry %d altered: %v", bad[i].Number, err)
		}
	}
}

func TestVerifyChainAcrossReads(t *testing.T) {
	var c chain
	c.next = 1
	first := []plugins.AuditLogEntry{c.add(CmdBoot, 0, 0, true, 0), c.add(CmdSignHMAC, 1, 0x10, true, 5)}
	cp := checkpointOf(first[1])
	more := []plugins.AuditLogEntry{c.add(CmdSignHMAC, 1, 0x10, true, 9), c.add(CmdSignHMAC, 1, 0x10, true, 12)}

	t.Run("same entries again and more", func(t *testing.T) {
		got, err := VerifyChain(append(append([]plugins.AuditLogEntry(nil), first...), more...), cp)
		if err != nil || got.New != 2 {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("released up to the checkpoint", func(t *testing.T) {
		got, err := VerifyChain(more, cp)
		if err != nil || got.New != 0 || got.Gap != nil {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("checkpoint entry changed", func(t *testing.T) {
		bad := append([]plugins.AuditLogEntry(nil), first...)
		bad[1].Digest[0] ^= 1
		var te *TamperError
		if _, err := VerifyChain(bad, cp); !errors.As(err, &te) || te.Number != 2 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("next entry does not follow", func(t *testing.T) {
		bad := append([]plugins.AuditLogEntry(nil), more...)
		bad[0].Tick++
		var te *TamperError
		if _, err := VerifyChain(bad[:1], cp); !errors.As(err, &te) || te.Number != 3 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("gap", func(t *testing.T) {
		got, err := VerifyChain(more[1:], cp)
		if err != nil || got.Gap == nil || *got.Gap != (Gap{3, 3}) {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("newer entries gone", func(t *testing.T) {
		var te *TamperError
		if _, err := VerifyChain(first[:1], cp); !errors.As(err, &te) || te.Number != 2 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		var r chain
		r.next = 1
		reset := r.add(CmdReset, NoKey, NoKey, false, 0)
		got, err := VerifyChain([]plugins.AuditLogEntry{reset}, &Checkpoint{Number: 40, Digest: cp.Digest})
		if err != nil || !got.Reset {
			t.Fatalf("%+v, %v", got, err)
		}
	})
}

func TestParseHours(t *testing.T) {
	in := func(h, m int) time.Time { return time.Date(2026, 1, 1, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		s       string
		in, out []time.Time
		bad     bool
		printed string
	}{
		{s: "08:00-18:00", in: []time.Time{in(8, 0), in(17, 59)}, out: []time.Time{in(7, 59), in(18, 0), in(3, 0)}, printed: "08:00-18:00"},
		{s: "22:00-06:00", in: []time.Time{in(23, 0), in(5, 59), in(22, 0)}, out: []time.Time{in(6, 0), in(12, 0)}, printed: "22:00-06:00"},
		{s: "9:30-24:00", in: []time.Time{in(23, 59), in(9, 30)}, out: []time.Time{in(9, 29)}, printed: "09:30-24:00"},
		{s: "08:00", bad: true}, {s: "08:00-08:00", bad: true}, {s: "00:00-24:00", bad: true},
		{s: "24:00-08:00", bad: true}, {s: "08:60-09:00", bad: true}, {s: "8-18", bad: true},
		{s: "+8:00-18:00", bad: true}, {s: "08:00-18:0", bad: true}, {s: "-1:00-02:00", bad: true},
	} {
		h, err := ParseHours(tc.s)
		if tc.bad {
			if err == nil {
				t.Errorf("%q accepted as %v", tc.s, h)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.s, err)
		}
		if h.String() != tc.printed {
			t.Errorf("%q printed %q", tc.s, h.String())
		}
		for _, x := range tc.in {
			if !h.Contains(x) {
				t.Errorf("%s does not contain %s", h, x.Format("15:04"))
			}
		}
		for _, x := range tc.out {
			if h.Contains(x) {
				t.Errorf("%s contains %s", h, x.Format("15:04"))
			}
		}
	}
}

func TestParseSince(t *testing.T) {
	now := t0
	loc := time.FixedZone("X", 3600)
	for s, want := range map[string]time.Time{
		"24h":                  now.Add(-24 * time.Hour),
		"2026-11-30T08:00:00Z": time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
		"2026-11-30 08:00":     time.Date(2026, 11, 30, 8, 0, 0, 0, loc),
		"2026-11-30":           time.Date(2026, 11, 30, 0, 0, 0, 0, loc),
		"2026-11-30T08:00:05":  time.Date(2026, 11, 30, 8, 0, 5, 0, loc),
	} {
		got, err := ParseSince(s, now, loc)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1h", "0s", "yesterday", "2026-13-01"} {
		if _, err := ParseSince(s, now, loc); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Two runs: the first anchors the boot (assumed tick rate), the second measures the rate
// from its own anchor and places signings on it; --since and --outside-hours filter and
// flag; the chain carries over.
func TestAnalyze(t *testing.T) {
	var c chain
	c.next = 2
	boot := c.add(CmdBoot, 0, 0, true, 0)
	night := c.add(CmdSignHMAC, 1, 0x10, true, 1_000)            // t0 - 2h + 1s
	day := c.add(CmdSignHMAC, 1, 0x10, true, 2*3600_000)         // t0
	refused := c.add(CmdSignHMAC, 2, 0x11, false, 2*3600_000+10) // t0 + 10ms
	marker := c.add(CmdGetObjectInfo, 1, 0x10, true, 2*3600_000+500)
	hours, _ := ParseHours("08:00-18:00")
	opts := Options{
		Device: "yubihsm:connector=http://127.0.0.1:1", Hours: &hours, Location: time.UTC,
		Marker: &Marker{Object: 0x10, AuthKey: 1, Before: t0.Add(400 * time.Millisecond), After: t0.Add(600 * time.Millisecond)},
	}
	r, st, err := Analyze(plugins.AuditLogResult{Entries: []plugins.AuditLogEntry{boot, night, day, refused, marker}}, State{Version: 1}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Anchored || len(r.Signings) != 3 || r.Outside != 1 {
		t.Fatalf("report %+v", r)
	}
	want := t0.Add(-2*time.Hour + time.Second)
	if s := r.Signings[0]; !s.Outside || s.Time == nil || !s.Time.Equal(want) || !s.Estimated || s.Entry != night.Number {
		t.Fatalf("night signing %+v, want outside at %v", s, want)
	}
	if s := r.Signings[2]; s.OK || s.Outside {
		t.Errorf("refused signing %+v", s)
	}
	if alerts := r.Alerts(); len(alerts) != 1 || !strings.Contains(alerts[0], "entry 3") {
		t.Errorf("alerts %q", alerts)
	}
	var out bytes.Buffer
	r.WriteText(&out)
	if !strings.Contains(out.String(), "entry 3  ~2026-11-30 07:00:01 UTC  SIGN_HMAC key 0x0010  session of authentication key 0x0001  OUTSIDE 08:00-18:00") {
		t.Errorf("text:\n%s", out.String())
	}

	// The state survives a file, and the next run continues the chain.
	path := filepath.Join(t.TempDir(), "state", "dev.json")
	if err := SaveState(path, st); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v", fi.Mode(), err)
	}
	st2, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	// Two hours later by the wall clock, but 2.5 hours by ticks: the measured rate wins.
	late := c.add(CmdSignHMAC, 1, 0x10, true, 2*3600_000+500+9000_000/2) // wall t0 + 2h (rate 0.8)
	marker2 := c.add(CmdGetObjectInfo, 1, 0x10, true, 2*3600_000+500+9000_000)
	since := t0.Add(time.Hour)
	opts.Since = since
	opts.Marker = &Marker{Object: 0x10, AuthKey: 1, Before: t0.Add(2*time.Hour + 400*time.Millisecond), After: t0.Add(2*time.Hour + 600*time.Millisecond)}
	r2, _, err := Analyze(plugins.AuditLogResult{Entries: []plugins.AuditLogEntry{late, marker2}}, st2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r2.VerifiedFrom != "the previous audit (entry 6)" || len(r2.Signings) != 1 {
		t.Fatalf("second report %+v", r2)
	}
	s := r2.Signings[0]
	if want := t0.Add(time.Hour + 500*time.Millisecond); s.Time == nil || s.Estimated || s.Time.Sub(want).Abs() > time.Millisecond {
		t.Fatalf("late signing %+v, want %v (measured rate)", s, want)
	}
	// --since leaves out what came before. A fresh state has one anchor (the newest marker)
	// and the assumed rate: the late signing is placed at t0+45m, the others before t0.
	opts.Since = t0.Add(30 * time.Minute)
	r3, _, err := Analyze(plugins.AuditLogResult{Entries: []plugins.AuditLogEntry{boot, night, day, refused, marker, late, marker2}}, State{Version: 1}, opts)
	if err != nil || len(r3.Signings) != 1 {
		t.Fatalf("since: %+v, %v", r3.Signings, err)
	}
}

func TestAnalyzeTampered(t *testing.T) {
	var c chain
	c.next = 1
	entries := []plugins.AuditLogEntry{c.add(CmdBoot, 0, 0, true, 0), c.add(CmdSignHMAC, 1, 0x10, true, 1), c.add(CmdSignHMAC, 1, 0x10, true, 2)}
	entries[1].TargetKey = 0x11
	old := State{Version: 1, Device: "d"}
	r, st, err := Analyze(plugins.AuditLogResult{Entries: entries}, old, Options{Device: "d"})
	if err != nil || r.Tampered == nil || r.Tampered.Number != 2 || len(r.Signings) != 0 || st.Last != nil {
		t.Fatalf("%+v %+v %v", r, st, err)
	}
	var out bytes.Buffer
	r.WriteJSON(&out)
	if !strings.Contains(out.String(), `"entry": 2`) {
		t.Errorf("JSON %s", out.String())
	}
}

func TestParseStateRefuses(t *testing.T) {
	for name, s := range map[string]string{
		"version":       `{"version":2,"device":"d"}`,
		"unknown field": `{"version":1,"device":"d","x":1}`,
		"bad digest":    `{"version":1,"device":"d","last":{"number":1,"digest":"zz"}}`,
		"trailing":      `{"version":1,"device":"d"} {}`,
		"three anchors": `{"version":1,"device":"d","boot":{"anchors":[{"tick":1},{"tick":2},{"tick":3}]}}`,
	} {
		if _, err := ParseState([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
