package pkcs11backend

import (
	"fmt"

	"github.com/awskeep/awskeep/plugins"
)

// CKRError is a PKCS#11 return value (CK_RV, PKCS#11 v2.40 section 5.1 "Function return
// values") translated at the backend edge into one of the contract's sentinels. Its text
// keeps the CKR name so that a user can look it up in the token's documentation:
//
//	CKR_PIN_INCORRECT: PIN or password incorrect
type CKRError struct {
	// Code is the CK_RV the module returned.
	Code uint
	// Name is the CKR_* name of Code, e.g. "CKR_PIN_INCORRECT".
	Name string
	// Hint says what the user can do, if there is something to say.
	Hint string
	// Kind is the plugins sentinel the code maps to (plugins.ErrDevice for unlisted codes).
	Kind error
}

// Error prints the CKR name, the hint and the sentinel's text.
func (e *CKRError) Error() string {
	s := e.Name
	if s == "" {
		s = fmt.Sprintf("CKR 0x%X", e.Code)
	}
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s + ": " + e.Kind.Error()
}

// Unwrap returns Kind, so errors.Is(err, plugins.ErrPINIncorrect) works.
func (e *CKRError) Unwrap() error { return e.Kind }

// Return values that awskeep translates (PKCS#11 v2.40 pkcs11t.h). Kept here, without cgo,
// so that the mapping is the same in every build.
const (
	ckrAttributeSensitive      = 0x011
	ckrAttributeTypeInvalid    = 0x012
	ckrAttributeValueInvalid   = 0x013
	ckrActionProhibited        = 0x01B
	ckrDeviceError             = 0x030
	ckrDeviceMemory            = 0x031
	ckrDeviceRemoved           = 0x032
	ckrFunctionNotSupported    = 0x054
	ckrKeySizeRange            = 0x062
	ckrKeyTypeInconsistent     = 0x063
	ckrKeyFunctionNotPermitted = 0x068
	ckrMechanismInvalid        = 0x070
	ckrPINIncorrect            = 0x0A0
	ckrPINInvalid              = 0x0A1
	ckrPINLenRange             = 0x0A2
	ckrPINExpired              = 0x0A3
	ckrPINLocked               = 0x0A4
	ckrSessionCount            = 0x0B1
	ckrTemplateIncomplete      = 0x0D0
	ckrTemplateInconsistent    = 0x0D1
	ckrTokenNotPresent         = 0x0E0
	ckrTokenNotRecognized      = 0x0E1
	ckrTokenWriteProtected     = 0x0E2
	ckrUserAlreadyLoggedIn     = 0x100
	ckrUserNotLoggedIn         = 0x101
	ckrUserPINNotInitialized   = 0x102
	ckrSlotIDInvalid           = 0x003
	ckrSessionClosed           = 0x0B0
	ckrSessionHandleInvalid    = 0x0B3
	ckrCryptokiAlreadyInit     = 0x191
)

type ckrMeaning struct {
	kind error
	hint string
}

// ckrMeanings maps the return values a user can act on. Everything else is plugins.ErrDevice.
var ckrMeanings = map[uint]ckrMeaning{
	ckrPINIncorrect: {plugins.ErrPINIncorrect, "check the PIN; it was tried once, as tokens lock it after a few failures"},
	ckrPINInvalid:   {plugins.ErrPINIncorrect, "the PIN has characters the token does not accept"},
	ckrPINLenRange:  {plugins.ErrPINIncorrect, "the PIN is too short or too long for this token"},
	ckrPINExpired:   {plugins.ErrPINLocked, "the PIN has expired; set a new one with the token's tools"},
	ckrPINLocked:    {plugins.ErrPINLocked, "unlock or reset it with the security officer PIN"},
	ckrUserPINNotInitialized: {plugins.ErrDeviceUnavailable,
		"the token's user PIN is not set (softhsm2-util --init-token, pkcs11-tool --init-pin)"},

	ckrTokenNotPresent:      {plugins.ErrDeviceUnavailable, "insert the token"},
	ckrTokenNotRecognized:   {plugins.ErrDeviceUnavailable, ""},
	ckrDeviceRemoved:        {plugins.ErrDeviceUnavailable, "the token was removed"},
	ckrDeviceError:          {plugins.ErrDeviceUnavailable, ""},
	ckrSlotIDInvalid:        {plugins.ErrDeviceUnavailable, "the slot is gone"},
	ckrSessionClosed:        {plugins.ErrDeviceUnavailable, "the session was closed, perhaps the token was removed"},
	ckrSessionHandleInvalid: {plugins.ErrDeviceUnavailable, "the session is gone, perhaps the token was removed"},

	ckrKeySizeRange: {plugins.ErrUnsupported,
		"key too short (or too long) for this token's HMAC; SoftHSM needs at least 32 bytes, an AWS key is 44"},
	ckrMechanismInvalid:      {plugins.ErrUnsupported, "the token does not offer CKM_SHA256_HMAC"},
	ckrFunctionNotSupported:  {plugins.ErrUnsupported, "the module does not implement this function"},
	ckrKeyTypeInconsistent:   {plugins.ErrUnsupported, "the key's type cannot compute HMAC-SHA256"},
	ckrTemplateIncomplete:    {plugins.ErrUnsupported, "the token refused the key template"},
	ckrTemplateInconsistent:  {plugins.ErrUnsupported, "the token refused the key template"},
	ckrAttributeTypeInvalid:  {plugins.ErrUnsupported, "the token refused the key template"},
	ckrAttributeValueInvalid: {plugins.ErrUnsupported, "the token refused the key template"},

	ckrKeyFunctionNotPermitted: {plugins.ErrPermissionDenied, "the key may not sign (CKA_SIGN is false)"},
	ckrTokenWriteProtected:     {plugins.ErrPermissionDenied, "the token is read-only"},
	ckrActionProhibited:        {plugins.ErrPermissionDenied, ""},
	ckrAttributeSensitive:      {plugins.ErrPermissionDenied, "the token keeps that attribute secret"},

	ckrDeviceMemory:    {plugins.ErrDevice, "the token is full"},
	ckrSessionCount:    {plugins.ErrDevice, "the token has no free sessions"},
	ckrUserNotLoggedIn: {plugins.ErrDevice, "the login was lost; run the command again"},
}

// newCKRError translates code; name is its CKR_* name.
func newCKRError(code uint, name string) *CKRError {
	m, ok := ckrMeanings[code]
	if !ok {
		m = ckrMeaning{kind: plugins.ErrDevice}
	}
	return &CKRError{Code: code, Name: name, Hint: m.hint, Kind: m.kind}
}

// unavailable reports whether code says the token or its session is gone, so that the
// cached token (and its login) must be forgotten.
func unavailable(code uint) bool {
	switch code {
	case ckrTokenNotPresent, ckrTokenNotRecognized, ckrDeviceRemoved, ckrDeviceError,
		ckrSlotIDInvalid, ckrUserNotLoggedIn:
		return true
	}
	return false
}
