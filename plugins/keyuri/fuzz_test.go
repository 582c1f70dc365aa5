package keyuri_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

// FuzzRoundTrip checks that whatever Parse accepts prints to a URI that parses back to the
// same value (less pin-value, which String never prints), and that printing is a fixed point.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
		"pkcs11:token=My%20Token;id=%01%ff?pin-value=1234",
		"pkcs11:",
		"tpm:handle=0x81010002?device=tcp://127.0.0.1:2321&pcrs=sha256:7,23",
		"tpm:file=/etc/awskeep/prod.tss2.pem",
		"yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1",
		"example:name=a%3Bb?q=%26",
		"sealed:file=/etc/awskeep/a%3Bb.sealed;slot=2?addr=https://kms:1&mode=kwp&pin-value=x",
		"sealed-noquery:name=%2F?pin-source=/p",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := keyuri.Parse(s)
		if err != nil {
			return
		}
		printed := u.String()
		back, err := keyuri.Parse(printed)
		if err != nil {
			t.Fatalf("Parse(String()) of %q: %q: %v", s, printed, err)
		}
		want := u.Clone()
		want.Query = slices.DeleteFunc(want.Query, func(a keyuri.Attr) bool { return a.Name == keyuri.PINValue })
		if len(want.Query) == 0 {
			want.Query = nil
		}
		if len(want.Path) == 0 {
			want.Path = nil
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip of %q: got %#v, want %#v", s, back, want)
		}
		if again := back.String(); again != printed {
			t.Fatalf("String not a fixed point: %q then %q", printed, again)
		}
	})
}

// FuzzParseDevice checks ParseDevice as FuzzRoundTrip checks Parse, and that it accepts
// every key URI Parse accepts (a key's own URI names its device too).
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=aws?module-path=/usr/lib/softhsm/libsofthsm2.so",
		"tpm:", "tpm:dir=/etc/awskeep", "tpm:handle=0x81010002", "tpm:dir=/a;file=/b",
		"yubihsm:?connector=http://127.0.0.1:12345&auth-key-id=1", "yubihsm:object-id=0",
		"example:?pin-value=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := keyuri.ParseDevice(s)
		if _, keyErr := keyuri.Parse(s); keyErr == nil && err != nil {
			t.Fatalf("Parse accepts %q, ParseDevice refuses it: %v", s, err)
		}
		if err != nil {
			return
		}
		printed := u.String()
		back, err := keyuri.ParseDevice(printed)
		if err != nil {
			t.Fatalf("ParseDevice(String()) of %q: %q: %v", s, printed, err)
		}
		if again := back.String(); again != printed {
			t.Fatalf("String not a fixed point: %q then %q", printed, again)
		}
	})
}
