package pkcs11backend

import (
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

// TestCKRMapping pins the translation of the return values a user can act on (PKCS#11
// v2.40 section 5.1); SoftHSM produces only some of them, so the table is checked directly.
func TestCKRMapping(t *testing.T) {
	tests := []struct {
		code     uint
		name     string
		want     error
		wantHint string
	}{
		{0x0A0, "CKR_PIN_INCORRECT", plugins.ErrPINIncorrect, "tried once"},
		{0x0A1, "CKR_PIN_INVALID", plugins.ErrPINIncorrect, ""},
		{0x0A2, "CKR_PIN_LEN_RANGE", plugins.ErrPINIncorrect, "too short or too long"},
		{0x0A3, "CKR_PIN_EXPIRED", plugins.ErrPINLocked, "expired"},
		{0x0A4, "CKR_PIN_LOCKED", plugins.ErrPINLocked, "security officer"},
		{0x102, "CKR_USER_PIN_NOT_INITIALIZED", plugins.ErrDeviceUnavailable, "--init-pin"},
		{0x0E0, "CKR_TOKEN_NOT_PRESENT", plugins.ErrDeviceUnavailable, "insert"},
		{0x032, "CKR_DEVICE_REMOVED", plugins.ErrDeviceUnavailable, "removed"},
		{0x030, "CKR_DEVICE_ERROR", plugins.ErrDeviceUnavailable, ""},
		{0x003, "CKR_SLOT_ID_INVALID", plugins.ErrDeviceUnavailable, ""},
		{0x062, "CKR_KEY_SIZE_RANGE", plugins.ErrUnsupported, "key too short"},
		{0x070, "CKR_MECHANISM_INVALID", plugins.ErrUnsupported, "CKM_SHA256_HMAC"},
		{0x068, "CKR_KEY_FUNCTION_NOT_PERMITTED", plugins.ErrPermissionDenied, "CKA_SIGN"},
		{0x0E2, "CKR_TOKEN_WRITE_PROTECTED", plugins.ErrPermissionDenied, "read-only"},
		{0x0D1, "CKR_TEMPLATE_INCONSISTENT", plugins.ErrUnsupported, "template"},
		{0x031, "CKR_DEVICE_MEMORY", plugins.ErrDevice, "full"},
		{0x005, "CKR_GENERAL_ERROR", plugins.ErrDevice, ""},
		{0x80000001, "", plugins.ErrDevice, ""}, // vendor-defined
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(newCKRError(tt.code, tt.name))
			if !errors.Is(err, tt.want) {
				t.Errorf("%s maps to %v, want %v", tt.name, errors.Unwrap(err), tt.want)
			}
			msg := err.Error()
			if tt.name != "" && !strings.HasPrefix(msg, tt.name) {
				t.Errorf("text %q does not start with %s", msg, tt.name)
			}
			if tt.name == "" && !strings.HasPrefix(msg, "CKR 0x80000001") {
				t.Errorf("text %q lacks the code", msg)
			}
			if !strings.Contains(msg, tt.wantHint) || !strings.HasSuffix(msg, tt.want.Error()) {
				t.Errorf("text %q lacks hint %q or the sentinel's text", msg, tt.wantHint)
			}
			var ce *CKRError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Errorf("errors.As CKRError: %+v", ce)
			}
		})
	}
}
