package pkcs11backend

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

func TestParseSelector(t *testing.T) {
	slot := func(n uint) *uint { return &n }
	tests := []struct {
		name string
		uri  string
		want selector
	}{
		{"label, default module", "pkcs11:token=aws;object=prod",
			selector{modulePath: DefaultModulePath, token: tokenFilter{label: "aws"}, label: "prod", hasLabel: true}},
		{"binary id", "pkcs11:token=aws;id=%01%FF?module-path=/opt/vendor/lib/p11.so",
			selector{modulePath: "/opt/vendor/lib/p11.so", token: tokenFilter{label: "aws"}, id: []byte{1, 0xff}, hasID: true}},
		{"every token attribute", "pkcs11:token=a;serial=s;manufacturer=m;model=mo;slot-id=7;slot-description=sd;" +
			"slot-manufacturer=sm;library-manufacturer=lm;library-description=ld;library-version=2.6;object=k;id=%02;type=secret-key",
			selector{modulePath: DefaultModulePath, token: tokenFilter{label: "a", serial: "s", manufacturer: "m", model: "mo",
				slotID: slot(7), slotDescription: "sd", slotManufacturer: "sm", libManufacturer: "lm", libDescription: "ld",
				libVersion: "2.6"}, label: "k", hasLabel: true, id: []byte{2}, hasID: true}},
		{"pin attributes are ignored", "pkcs11:object=k?pin-source=file:/run/pin",
			selector{modulePath: DefaultModulePath, label: "k", hasLabel: true}},
		{"percent-encoded label", "pkcs11:token=my%20token;object=prod%2Fkey",
			selector{modulePath: DefaultModulePath, token: tokenFilter{label: "my token"}, label: "prod/key", hasLabel: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSelector(tt.uri, DefaultModulePath)
			if err != nil {
				t.Fatal(err)
			}
			if !equalSelector(got, &tt.want) {
				t.Errorf("parseSelector = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalSelector(a, b *selector) bool {
	if (a.token.slotID == nil) != (b.token.slotID == nil) ||
		a.token.slotID != nil && *a.token.slotID != *b.token.slotID {
		return false
	}
	at, bt := a.token, b.token
	at.slotID, bt.slotID = nil, nil
	return a.modulePath == b.modulePath && at == bt && a.label == b.label && a.hasLabel == b.hasLabel &&
		bytes.Equal(a.id, b.id) && a.hasID == b.hasID
}

func TestParseSelectorErrors(t *testing.T) {
	tests := []struct {
		name, uri, wantMsg string
	}{
		{"other scheme", "tpm:handle=0x81010002", "not pkcs11"},
		{"no key", "pkcs11:token=aws", "names no key"},
		{"empty object", "pkcs11:token=aws;object=", "object= is empty"},
		{"empty id", "pkcs11:token=aws;id=", "id= is empty"},
		{"wrong type", "pkcs11:token=aws;object=k;type=private", "secret keys"},
		{"relative module", "pkcs11:object=k?module-path=libsofthsm2.so", "not an absolute path"},
		{"empty module", "pkcs11:object=k?module-path=", "module-path is empty"},
		{"module-name", "pkcs11:object=k?module-name=softhsm2", "module-name=softhsm2 is not supported"},
		{"unknown attribute", "pkcs11:object=k;colour=red", "unknown path attribute"},
		{"malformed", "pkcs11:object=%zz", "object"},
		{"bad slot", "pkcs11:object=k;slot-id=x", "slot-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSelector(tt.uri, DefaultModulePath)
			if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("parseSelector(%q) = %v, want ErrInvalidKeyURI containing %q", tt.uri, err, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "pkcs11: ") {
				t.Errorf("error %q lacks the pkcs11: prefix", err)
			}
		})
	}
}

func TestKeyName(t *testing.T) {
	tests := []struct {
		sel  selector
		want string
	}{
		{selector{label: "prod", hasLabel: true}, `key object "prod"`},
		{selector{id: []byte{0x01, 0xab}, hasID: true}, "key id 01ab"},
		{selector{label: "p", hasLabel: true, id: []byte{7}, hasID: true}, `key object "p" id 07`},
	}
	for _, tt := range tests {
		if got := tt.sel.keyName(); got != tt.want {
			t.Errorf("keyName = %q, want %q", got, tt.want)
		}
	}
}

// FuzzParseSelector: any input either parses into a selector that names a key and an
// absolute module, or fails with ErrInvalidKeyURI and a message without any pin-value.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so",
		"pkcs11:id=%01%02;serial=abc;slot-id=3",
		"pkcs11:object=k?pin-value=1234",
		"pkcs11:object=k;type=secret-key;library-version=2",
		"pkcs11:",
		"tpm:handle=0x81010002",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		sel, err := parseSelector(uri, DefaultModulePath)
		if err != nil {
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("error %v does not wrap ErrInvalidKeyURI", err)
			}
			if before, after, ok := strings.Cut(uri, "pin-value="); ok {
				v, rest, _ := strings.Cut(after, "&")
				if len(v) >= 6 && !strings.Contains(before+rest, v) && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q echoes the pin-value", err)
				}
			}
			return
		}
		if !sel.hasLabel && !sel.hasID {
			t.Fatal("a selector without object= or id= was accepted")
		}
		if !strings.HasPrefix(sel.modulePath, "/") {
			t.Fatalf("relative module path %q accepted", sel.modulePath)
		}
	})
}
