package backend

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

func TestParseHMAC(t *testing.T) {
	tag := bytes.Repeat([]byte{7}, 32)
	good := "vault:v3:" + base64.StdEncoding.EncodeToString(tag)
	if got, err := parseHMAC(good); err != nil || !bytes.Equal(got, tag) {
		t.Fatalf("parseHMAC(%q) = %x, %v", good, got, err)
	}
	for _, bad := range []string{"", "vault:v1", "vault:v0:" + base64.StdEncoding.EncodeToString(tag),
		"vault:vx:" + base64.StdEncoding.EncodeToString(tag), "vault:v1:!!", "vault:v1:" + base64.StdEncoding.EncodeToString(tag[:31]),
		"v1:" + base64.StdEncoding.EncodeToString(tag)} {
		if _, err := parseHMAC(bad); err == nil {
			t.Errorf("parseHMAC(%q) accepted", bad)
		}
	}
}

// TestTranslate maps Vault's answers, as its HTTP layer writes them (sdk/logical
// RespondError), to the contract's sentinels.
func TestTranslate(t *testing.T) {
	ref := keyRef{name: "prod", mount: "transit", addr: DefaultAddr, authMount: "approle"}
	tests := []struct {
		name string
		op   string
		err  error
		want error
	}{
		{"invalid token", "hmac", &apiError{403, []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}}, plugins.ErrPINIncorrect},
		{"no capability", "hmac", &apiError{403, []string{"1 error occurred:\n\t* permission denied\n\n"}}, plugins.ErrPermissionDenied},
		{"sealed", "hmac", &apiError{503, []string{"Vault is sealed"}}, plugins.ErrDeviceUnavailable},
		{"standby", "hmac", &apiError{429, nil}, plugins.ErrDeviceUnavailable},
		{"unreachable", "hmac", fmt.Errorf("%w: dial tcp: connection refused", errUnreachable), plugins.ErrDeviceUnavailable},
		{"hmac of a missing key", "hmac", &apiError{400, []string{"encryption key not found"}}, plugins.ErrKeyNotFound},
		{"read of a missing key", "delete", &apiError{404, nil}, plugins.ErrKeyNotFound},
		{"no such mount", "hmac", &apiError{404, []string{`no handler for route "nope/hmac/prod/sha2-256". route entry not found.`}}, plugins.ErrInvalidKeyURI},
		{"approle secret wrong", "login", &apiError{400, []string{"invalid role or secret ID"}}, plugins.ErrPINIncorrect},
		{"other", "import", &apiError{500, []string{"internal error"}}, plugins.ErrDevice},
		{"malformed answer", "hmac", errors.New("malformed HMAC answer"), plugins.ErrDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translate(tt.op, ref, tt.err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("translate(%v) = %v, want %v", tt.err, err, tt.want)
			}
			if n := countSentinels(err); n != 1 {
				t.Fatalf("translate(%v) wraps %d contract sentinels, want exactly 1", tt.err, n)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error text spans lines: %q", err)
			}
		})
	}
}

func countSentinels(err error) int {
	n := 0
	for _, s := range []error{plugins.ErrKeyNotFound, plugins.ErrPINIncorrect, plugins.ErrPINLocked,
		plugins.ErrDeviceUnavailable, plugins.ErrKeyExists, plugins.ErrAmbiguousKey, plugins.ErrUnsupported,
		plugins.ErrInvalidKeyURI, plugins.ErrPermissionDenied, plugins.ErrMessageTooLarge, plugins.ErrDevice} {
		if errors.Is(err, s) {
			n++
		}
	}
	return n
}
