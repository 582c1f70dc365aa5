package keyuri_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// sealed is the schema of a sealed-file backend, as an integrator would register it:
// the key is a file, found at an address, with a mode that takes one of two values.
var errBadMode = errors.New("mode must be aead or kwp")

func init() {
	keyuri.Register("sealed", keyuri.Schema{
		Path:     []string{"file", "slot"},
		Query:    []string{"addr", "mode"},
		Required: []string{"file"},
		Check: func(u *keyuri.URI) error {
			if v, ok := u.QueryAttr("mode"); ok && v != "aead" && v != "kwp" {
				return fmt.Errorf("sealed: %w", errBadMode)
			}
			if v, ok := u.PathAttr("slot"); ok && v == "0" {
				return fmt.Errorf("%w: sealed: slot 0 is reserved", plugins.ErrInvalidKeyURI)
			}
			return nil
		},
	})
	// A schema that lists no query attributes still takes the PIN's.
	keyuri.Register("sealed-noquery", keyuri.Schema{Path: []string{"name"}, Query: []string{}})
}

func TestRegisteredSchema(t *testing.T) {
	ok := []string{
		"sealed:file=/etc/awskeep/prod.sealed",
		"sealed:file=/k;slot=2?addr=https://kms.example:8443&mode=kwp&pin-source=file:/run/pw",
		"sealed:file=/k;x-vendor=1?x-trace=on",
		"sealed-noquery:name=a?pin-value=",
		"sealed-noquery:name=a?pin-source=/run/pw",
	}
	for _, in := range ok {
		if _, err := keyuri.Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	bad := []struct{ name, in, want string }{
		{"unknown path attribute", "sealed:file=/k;name=x", `unknown path attribute "name" (known: file, slot)`},
		{"unknown query attribute", "sealed:file=/k?region=x", `unknown query attribute "region" (known: pin-source, pin-value, addr, mode)`},
		{"required missing", "sealed:slot=2", "invalid key URI: sealed: file= is required"},
		{"required empty", "sealed:file=", "sealed: file= is empty"},
		{"check error wrapped", "sealed:file=/k?mode=ecb", "invalid key URI: sealed: mode must be aead or kwp"},
		{"check error already invalid", "sealed:slot=0;file=/k", "invalid key URI: sealed: slot 0 is reserved"},
		{"empty query list", "sealed-noquery:name=a?addr=x", `unknown query attribute "addr" (known: pin-source, pin-value)`},
		{"pin source and value", "sealed:file=/k?pin-source=/p&pin-value=1", "not both"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyuri.Parse(tt.in)
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("Parse(%q) = %v, want an error wrapping ErrInvalidKeyURI", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %q, want it to say %q", tt.in, err, tt.want)
			}
			if n := strings.Count(err.Error(), plugins.ErrInvalidKeyURI.Error()); n != 1 {
				t.Fatalf("Parse(%q) = %q says %q %d times", tt.in, err, plugins.ErrInvalidKeyURI, n)
			}
			// The check's own error is text, not a second sentinel to match.
			if errors.Is(err, errBadMode) {
				t.Fatalf("Parse(%q) = %v still wraps the check's error", tt.in, err)
			}
		})
	}
}

func TestParseFor(t *testing.T) {
	u, err := keyuri.ParseFor("sealed", "sealed:file=/k")
	if err != nil || u.Scheme != "sealed" {
		t.Fatalf("ParseFor = %v, %v", u, err)
	}
	_, err = keyuri.ParseFor("sealed", "example:name=a")
	if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), `scheme "example" is not served here (this backend serves sealed:)`) {
		t.Fatalf("ParseFor of another scheme = %v", err)
	}
	_, err = keyuri.ParseFor("sealed", "sealed:slot=1")
	if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), "file= is required") {
		t.Fatalf("ParseFor of an invalid URI = %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, tt := range []struct {
		name, scheme string
		s            keyuri.Schema
		want         string
	}{
		{"twice", "sealed", keyuri.Schema{}, `Register called twice for scheme "sealed"`},
		{"built in", "pkcs11", keyuri.Schema{}, `Register called twice for scheme "pkcs11"`},
		{"upper case", "Vault", keyuri.Schema{}, `malformed scheme "Vault"`},
		{"bad attribute", "bad-attr", keyuri.Schema{Path: []string{"a=b"}}, `malformed attribute "a=b"`},
		{"required not listed", "bad-required", keyuri.Schema{Path: []string{"a"}, Required: []string{"b"}}, `requires "b" but does not list it in Path`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				got := fmt.Sprint(recover())
				if !strings.Contains(got, tt.want) {
					t.Fatalf("Register(%q) panicked with %q, want %q", tt.scheme, got, tt.want)
				}
			}()
			keyuri.Register(tt.scheme, tt.s)
		})
	}
	// A refused registration leaves the scheme free-form.
	if _, err := keyuri.Parse("bad-required:anything=1"); err != nil {
		t.Fatalf("a refused schema was registered: %v", err)
	}
}
