package rotate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testJournal() *journal {
	return &journal{
		Version: journalVersion, Profile: "prod", ConfigFile: "/home/u/.aws/config", Step: StepCreated,
		UserName: "alice", OldAccessKeyID: "AKIAOLD0000000000000", NewAccessKeyID: "AKIANEW0000000000000",
		OldKey:     "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so",
		NewKey:     "pkcs11:token=aws;object=prod-r2?module-path=/usr/lib/softhsm/libsofthsm2.so",
		KeysBefore: []string{"AKIAOLD0000000000000"}, Began: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
	}
}

func TestJournalRoundTripIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path, lock := journalPaths(dir, "/home/u/.aws/config", "prod")
	if other, _ := journalPaths(dir, "/other/config", "prod"); other == path {
		t.Fatal("one profile name in two config files shares a journal")
	}
	if !strings.HasSuffix(path, ".json") || !strings.HasSuffix(lock, ".lock") || filepath.Dir(path) != dir {
		t.Fatalf("paths %s %s", path, lock)
	}
	if _, ok, err := readJournal(path); ok || err != nil {
		t.Fatalf("a missing journal reads as %v, %v", ok, err)
	}
	want := testJournal()
	if err := writeJournal(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v, %v; want 0600", fi.Mode(), err)
	}
	got, ok, err := readJournal(path)
	if err != nil || !ok || got.NewAccessKeyID != want.NewAccessKeyID || got.Step != want.Step || !got.Began.Equal(want.Began) {
		t.Fatalf("read back %+v, %v, %v", got, ok, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".rotate-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readJournal(path); err == nil || !strings.Contains(err.Error(), "not a private regular file") {
		t.Fatalf("a journal readable by others was read: %v", err)
	}
	if err := removeJournal(path); err != nil {
		t.Fatal(err)
	}
	if err := removeJournal(path); err != nil {
		t.Fatalf("removing a removed journal: %v", err)
	}
}

func TestDecodeJournalRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*journal)
		says string
	}{
		{"another version", func(j *journal) { j.Version = 2 }, "format version 2"},
		{"unknown step", func(j *journal) { j.Step = "exploded" }, "unknown step"},
		{"no old key id", func(j *journal) { j.OldAccessKeyID = "" }, "old access key id"},
		{"created without its id", func(j *journal) { j.NewAccessKeyID = "" }, "without the new access key id"},
		{"a pin-source in a URI", func(j *journal) { j.NewKey += "&pin-source=file:/p" }, "PIN source"},
		{"a URI that does not parse", func(j *journal) { j.OldKey = "no scheme" }, "does not parse"},
		{"a bad key among the keys before", func(j *journal) { j.KeysBefore = []string{"lower"} }, "keys before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := testJournal()
			tc.edit(j)
			path := filepath.Join(t.TempDir(), "j.json")
			if err := writeJournal(path, j); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if _, err := decodeJournal(data); err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("decodeJournal = %v, want an error saying %q", err, tc.says)
			}
		})
	}
	for _, bad := range []string{"", "{", `{"version":1,"secret":"x"}`, `{"version":1} {}`} {
		if _, err := decodeJournal([]byte(bad)); err == nil {
			t.Errorf("decodeJournal(%q) did not fail", bad)
		}
	}
}

// FuzzDecodeJournal: decodeJournal never panics, and a journal it accepts writes and reads
// back as itself and holds no PIN source or value.
func FuzzDecodeJournal(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.json")
	if err := writeJournal(path, testJournal()); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte(`{"version":1,"step":"begun"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJournal(data)
		if err != nil {
			return
		}
		if strings.Contains(j.OldKey+j.NewKey, "pin-") {
			t.Fatalf("accepted a journal with a PIN attribute: %q %q", j.OldKey, j.NewKey)
		}
		p := filepath.Join(t.TempDir(), "j.json")
		if err := writeJournal(p, j); err != nil {
			t.Fatal(err)
		}
		back, ok, err := readJournal(p)
		if err != nil || !ok || back.Step != j.Step || back.NewKey != j.NewKey || back.OldAccessKeyID != j.OldAccessKeyID {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}

func TestDefaultStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/awskeep"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/awskeep"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/awskeep"},
	} {
		if got, err := DefaultStateDir(env(tc.env)); err != nil || got != tc.want {
			t.Errorf("DefaultStateDir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	if _, err := DefaultStateDir(env(nil)); err == nil {
		t.Error("no HOME and no XDG_STATE_HOME gave a directory")
	}
}
