package keyuri_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  *keyuri.URI
		canon string
	}{
		{
			name: "rfc7512 example with module and pin-source",
			in:   "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/awskeep/pin",
			want: &keyuri.URI{Scheme: "pkcs11",
				Path:  []keyuri.Attr{{"token", "aws"}, {"object", "prod"}},
				Query: []keyuri.Attr{{"module-path", "/usr/lib/softhsm/libsofthsm2.so"}, {"pin-source", "file:/run/awskeep/pin"}}},
		},
		{
			name:  "binary id and encoded space",
			in:    "pkcs11:token=My%20Token;id=%01%ff",
			want:  &keyuri.URI{Scheme: "pkcs11", Path: []keyuri.Attr{{"token", "My Token"}, {"id", "\x01\xff"}}},
			canon: "pkcs11:token=My%20Token;id=%01%FF",
		},
		{
			name:  "scheme is case-insensitive",
			in:    "PKCS11:object=a",
			want:  &keyuri.URI{Scheme: "pkcs11", Path: []keyuri.Attr{{"object", "a"}}},
			canon: "pkcs11:object=a",
		},
		{
			name: "empty pkcs11 uri matches everything",
			in:   "pkcs11:",
			want: &keyuri.URI{Scheme: "pkcs11"},
		},
		{
			name: "tpm handle with simulator device",
			in:   "tpm:handle=0x81010002?device=tcp://127.0.0.1:2321&pcrs=sha256:7,23",
			want: &keyuri.URI{Scheme: "tpm", Path: []keyuri.Attr{{"handle", "0x81010002"}},
				Query: []keyuri.Attr{{"device", "tcp://127.0.0.1:2321"}, {"pcrs", "sha256:7,23"}}},
		},
		{
			name: "tpm key file",
			in:   "tpm:file=/etc/awskeep/prod.tss2.pem",
			want: &keyuri.URI{Scheme: "tpm", Path: []keyuri.Attr{{"file", "/etc/awskeep/prod.tss2.pem"}}},
		},
		{
			name: "yubihsm",
			in:   "yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1",
			want: &keyuri.URI{Scheme: "yubihsm", Path: []keyuri.Attr{{"object-id", "0x0010"}},
				Query: []keyuri.Attr{{"connector", "http://127.0.0.1:12345"}, {"auth-key-id", "1"}}},
		},
		{
			name: "other schemes take free attributes",
			in:   "example:name=prod;zone=a?anything=goes",
			want: &keyuri.URI{Scheme: "example", Path: []keyuri.Attr{{"name", "prod"}, {"zone", "a"}},
				Query: []keyuri.Attr{{"anything", "goes"}}},
		},
		{
			name: "vendor attribute",
			in:   "pkcs11:object=a;x-vendor=1",
			want: &keyuri.URI{Scheme: "pkcs11", Path: []keyuri.Attr{{"object", "a"}, {"x-vendor", "1"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyuri.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Fatalf("String() = %q, want %q", s, canon)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no scheme", "token=aws", "missing scheme"},
		{"bad scheme", "1x:a=b", "malformed scheme"},
		{"no value", "pkcs11:token", "has no value"},
		{"repeated", "pkcs11:token=a;token=b", "more than once"},
		{"unknown pkcs11 attribute", "pkcs11:label=a", `unknown path attribute "label"`},
		{"unknown query attribute", "pkcs11:object=a?pin=1", `unknown query attribute "pin"`},
		{"raw slash in pkcs11 path", "pkcs11:object=a/b", `character '/' must be percent-encoded`},
		{"raw space", "pkcs11:object=a b", `character ' ' must be percent-encoded`},
		{"bad percent", "pkcs11:object=%zz", "malformed percent-encoding"},
		{"truncated percent", "pkcs11:object=%4", "malformed percent-encoding"},
		{"bad type", "pkcs11:type=key", "type"},
		{"bad slot-id", "pkcs11:slot-id=x", "slot-id"},
		{"pin source and value", "pkcs11:object=a?pin-source=/p&pin-value=1", "not both"},
		{"fragment", "pkcs11:object=a#b", "fragments"},
		{"tpm needs a key", "tpm:?device=/dev/tpmrm0", "exactly one of handle= or file="},
		{"tpm both", "tpm:handle=0x81000001;file=/x", "exactly one"},
		{"tpm transient handle", "tpm:handle=0x80000001", "not a persistent handle"},
		{"yubihsm needs object-id", "yubihsm:?connector=http://h:1", "object-id= is required"},
		{"yubihsm bad id", "yubihsm:object-id=0x10000", "not a number from 1 to 0xffff"},
		{"yubihsm bad auth key", "yubihsm:object-id=1?auth-key-id=zero", "auth-key-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyuri.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.in)
			}
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("error %v does not wrap ErrInvalidKeyURI", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestPINValueNeverPrinted(t *testing.T) {
	const pin = "s3cr3t-PIN"
	u, err := keyuri.Parse("pkcs11:object=a?pin-value=" + pin + "&module-path=/m.so")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := u.QueryAttr(keyuri.PINValue); v != pin {
		t.Fatalf("pin-value = %q", v)
	}
	if s := u.String(); strings.Contains(s, pin) || s != "pkcs11:object=a?module-path=/m.so" {
		t.Fatalf("String() = %q", s)
	}
	_, err = keyuri.Parse("pkcs11:object=a?pin-value=" + pin + "%zz")
	if err == nil || strings.Contains(err.Error(), pin) {
		t.Fatalf("error leaks or is missing: %v", err)
	}
}

func TestWithoutSecrets(t *testing.T) {
	u, err := keyuri.Parse("tpm:handle=0x81000001?pin-source=/run/pw&device=/dev/tpmrm0")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.WithoutSecrets().String(); got != "tpm:handle=0x81000001?device=/dev/tpmrm0" {
		t.Fatalf("WithoutSecrets = %q", got)
	}
	if _, ok := u.QueryAttr(keyuri.PINSource); !ok {
		t.Fatal("WithoutSecrets changed the original")
	}
}

func TestHelpers(t *testing.T) {
	if h, err := keyuri.PersistentHandle("0x81010002"); err != nil || h != 0x81010002 {
		t.Fatalf("PersistentHandle = %#x, %v", h, err)
	}
	if id, err := keyuri.ObjectID("16"); err != nil || id != 16 {
		t.Fatalf("ObjectID = %d, %v", id, err)
	}
}

func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		uri      string
		keyOK    bool // Parse accepts it
		deviceOK bool // ParseDevice accepts it
	}{
		{"pkcs11:token=aws", true, true},
		{"tpm:", false, true},
		{"tpm:dir=/etc/awskeep", false, true},
		{"tpm:dir=", false, false},
		{"tpm:handle=0x81010002", true, true},
		{"tpm:handle=0x01", false, false},
		{"tpm:file=/k.pem;dir=/etc", false, false},
		{"tpm:file=/k.pem", true, true},
		{"yubihsm:?connector=http://127.0.0.1:1&auth-key-id=1", false, true},
		{"yubihsm:?auth-key-id=0", false, false},
		{"yubihsm:object-id=0x10", true, true},
		{"yubihsm:object-id=0", false, false},
		{"yubihsm:object-id=", false, false},
		{"yubihsm:?nope=1", false, false},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			_, err := keyuri.Parse(tc.uri)
			if (err == nil) != tc.keyOK {
				t.Errorf("Parse: %v, want ok %v", err, tc.keyOK)
			}
			_, err = keyuri.ParseDevice(tc.uri)
			if (err == nil) != tc.deviceOK {
				t.Errorf("ParseDevice: %v, want ok %v", err, tc.deviceOK)
			}
			if err != nil && !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Errorf("ParseDevice error %v does not wrap ErrInvalidKeyURI", err)
			}
		})
	}
	if _, err := keyuri.ParseDeviceFor("tpm", "pkcs11:token=a"); !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Errorf("ParseDeviceFor of another scheme: %v", err)
	}
}
