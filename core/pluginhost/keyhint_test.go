package pluginhost

import (
	"strings"
	"testing"
)

// TestKeyHintHasNoPIN: the key a plugin is started for reaches it without pin-value and
// pin-source; what does not parse does not reach it at all.
func TestKeyHintHasNoPIN(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=SECRETPIN1234",
			"pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so"},
		{"pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin", "pkcs11:token=aws;object=prod"},
		{"tpm:handle=0x81000001", "tpm:handle=0x81000001"},
		{"", ""},
		{"not a key uri ?pin-value=SECRETPIN1234", ""},
	} {
		got := keyHint(tc.uri)
		if got != tc.want || strings.Contains(got, "SECRETPIN") || strings.Contains(got, "pin-") {
			t.Errorf("keyHint(%q) = %q, want %q", tc.uri, got, tc.want)
		}
	}
}
