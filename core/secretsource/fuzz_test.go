package secretsource

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts prints back as a setting Parse reads to
// the same source; what it refuses is ErrInvalidSpec, and a setting of no known kind (which
// may be a password written in the wrong place) is never repeated in the error.
// Seeds: testdata/fuzz/FuzzParse and the ones below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"prompt", "conjur:prod/okta/password", "keyring:okta", "file:/run/x", "file:~/x",
		"file:///x", "file://localhost/x", "file://h/x", "conjur:..", "keyring:.x", "Prompt",
		"", " ", "hunter2", "Summer:2024!", "env:X", "conjur:", "file:", "keyring:a/b",
		"file:/a/../../b", "conjur:a\x00b", "file:~", "file://", "FILE:/X", "conjur: x ",
	} {
		f.Add(s)
	}
	opts := Options{Getenv: envMap(map[string]string{"HOME": "/home/u"})}
	f.Fuzz(func(t *testing.T, spec string) {
		src, err := Parse(spec, opts)
		if err != nil {
			if src != nil {
				t.Fatalf("Parse(%q) returned a source and an error", spec)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Parse(%q) error %v is not ErrInvalidSpec", spec, err)
			}
			trimmed := strings.TrimSpace(spec)
			kind, _, _ := strings.Cut(strings.ToLower(trimmed), ":")
			known := kind == KindConjur || kind == KindKeyring || kind == KindFile || kind == KindPrompt
			if !known && len(trimmed) >= 4 && strings.Contains(err.Error(), trimmed) &&
				!strings.Contains((&SpecError{Reason: "not one of the accepted forms (the value is not repeated here in case it is the password itself)"}).Error(), trimmed) {
				t.Fatalf("Parse(%q) repeats the setting in its error: %v", spec, err)
			}
			return
		}
		s := src.String()
		if !printable(s) {
			t.Fatalf("Parse(%q).String() = %q holds control characters", spec, s)
		}
		kind, arg, _ := strings.Cut(s, ":")
		switch kind {
		case KindPrompt:
			if s != KindPrompt {
				t.Fatalf("Parse(%q).String() = %q", spec, s)
			}
		case KindConjur, KindKeyring:
			if arg == "" {
				t.Fatalf("Parse(%q).String() = %q has no argument", spec, s)
			}
		case KindFile:
			if !filepath.IsAbs(arg) || filepath.Clean(arg) != arg {
				t.Fatalf("Parse(%q).String() = %q is not a clean absolute path", spec, s)
			}
		default:
			t.Fatalf("Parse(%q).String() = %q has no known kind", spec, s)
		}
		again, err := Parse(s, opts)
		if err != nil {
			t.Fatalf("Parse(%q) does not read back Parse(%q).String(): %v", s, spec, err)
		}
		if again.String() != s {
			t.Fatalf("Parse(%q).String() = %q, then %q", spec, s, again.String())
		}
	})
}
