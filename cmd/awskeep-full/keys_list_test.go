package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func TestWithPINSource(t *testing.T) {
	for _, tc := range []struct {
		name, listed, given, want string
	}{
		{"adds the given pin-source",
			"pkcs11:token=aws;object=prod?module-path=/m.so", "pkcs11:token=aws?module-path=/m.so&pin-source=file:/run/pin",
			"pkcs11:token=aws;object=prod?module-path=/m.so&pin-source=file:/run/pin"},
		{"never a pin-value",
			"tpm:handle=0x81010002", "tpm:?pin-value=1234", "tpm:handle=0x81010002"},
		{"nothing to add",
			"tpm:handle=0x81010002", "tpm:", "tpm:handle=0x81010002"},
		{"keeps the plugin's own",
			"example:name=a?pin-source=/other", "example:?pin-source=/run/pin", "example:name=a?pin-source=/other"},
		{"a listed URI that does not parse is shown as it is",
			"pkcs11:token=a;token=b", "pkcs11:?pin-source=/run/pin", "pkcs11:token=a;token=b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given, err := keyuri.ParseDevice(tc.given)
			if err != nil {
				t.Fatal(err)
			}
			if got := withPINSource(tc.listed, given); got != tc.want {
				t.Fatalf("withPINSource(%q, %q) = %q, want %q", tc.listed, tc.given, got, tc.want)
			}
		})
	}
}

func TestWriteKeyTable(t *testing.T) {
	var out strings.Builder
	err := writeKeyTable(&out, []listedKey{
		{URI: "tpm:file=/k/a.pem", Label: "a.pem", Created: "2026-11-02T10:30:00Z"},
		{URI: "tpm:handle=0x81010002"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = "" +
		"URI                    LABEL  CREATED\n" +
		"tpm:file=/k/a.pem      a.pem  2026-11-02T10:30:00Z\n" +
		"tpm:handle=0x81010002  -      -\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestCannotList(t *testing.T) {
	for version, want := range map[string]string{
		"1.2":  "the pkcs11 plugin was built for plugin protocol 1.2, before ListKeys (1.3); rebuild it",
		"1.0":  "built for plugin protocol 1.0, before ListKeys",
		"1.3":  "the pkcs11 backend cannot list keys",
		"1.10": "the pkcs11 backend cannot list keys",
	} {
		err := &cannotList{where: "pkcs11:token=aws", plugin: "pkcs11", protocol: version, err: plugins.ErrUnsupported}
		if !strings.Contains(err.Error(), want) || !errors.Is(err, plugins.ErrUnsupported) {
			t.Errorf("protocol %s: %q, want it to say %q and be ErrUnsupported", version, err, want)
		}
	}
}
