package yubihsm

import (
	"fmt"
	"math/bits"
	"strings"
)

// Command is a YubiHSM 2 command byte (YubiHSM 2 command reference).
type Command byte

// Commands used by this package. Responses carry the command byte with ResponseFlag set.
const (
	CmdEcho                 Command = 0x01
	CmdCreateSession        Command = 0x03
	CmdAuthenticateSession  Command = 0x04
	CmdSessionMessage       Command = 0x05
	CmdDeviceInfo           Command = 0x06
	CmdCloseSession         Command = 0x40
	CmdPutAuthenticationKey Command = 0x44
	CmdListObjects          Command = 0x48
	CmdGetLogEntries        Command = 0x4d
	CmdGetObjectInfo        Command = 0x4e
	CmdSetOption            Command = 0x4f
	CmdGetOption            Command = 0x50
	CmdPutHMACKey           Command = 0x52
	CmdSignHMAC             Command = 0x53
	CmdDeleteObject         Command = 0x58
	CmdGenerateHMACKey      Command = 0x5a
	CmdVerifyHMAC           Command = 0x5c
	CmdSetLogIndex          Command = 0x67
	// CmdError is the command byte of an error response: 7f | 0001 | code.
	CmdError Command = 0x7f
	// ResponseFlag is set in the command byte of a successful response.
	ResponseFlag Command = 0x80
)

var commandNames = map[Command]string{
	CmdEcho: "ECHO", CmdCreateSession: "CREATE_SESSION", CmdAuthenticateSession: "AUTHENTICATE_SESSION",
	CmdSessionMessage: "SESSION_MESSAGE", CmdDeviceInfo: "DEVICE_INFO", CmdCloseSession: "CLOSE_SESSION",
	CmdPutAuthenticationKey: "PUT_AUTHENTICATION_KEY", CmdListObjects: "LIST_OBJECTS",
	CmdGetObjectInfo: "GET_OBJECT_INFO", CmdPutHMACKey: "PUT_HMAC_KEY", CmdSignHMAC: "SIGN_HMAC",
	CmdDeleteObject: "DELETE_OBJECT", CmdGenerateHMACKey: "GENERATE_HMAC_KEY",
	CmdVerifyHMAC: "VERIFY_HMAC", CmdError: "ERROR", CmdGetLogEntries: "GET_LOG_ENTRIES",
	CmdSetLogIndex: "SET_LOG_INDEX", CmdSetOption: "SET_OPTION", CmdGetOption: "GET_OPTION",
}

// String returns the command's name in the YubiHSM 2 documentation, e.g. "SIGN_HMAC".
func (c Command) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	if c&ResponseFlag != 0 && c != CmdError {
		if n, ok := commandNames[c&^ResponseFlag]; ok {
			return n + " response"
		}
	}
	return fmt.Sprintf("command 0x%02x", byte(c))
}

// ObjectType is the type of a YubiHSM 2 object; an object is named by type and id.
type ObjectType byte

// Object types.
const (
	TypeOpaque            ObjectType = 0x01
	TypeAuthenticationKey ObjectType = 0x02
	TypeAsymmetricKey     ObjectType = 0x03
	TypeWrapKey           ObjectType = 0x04
	TypeHMACKey           ObjectType = 0x05
	TypeTemplate          ObjectType = 0x06
	TypeOTPAEADKey        ObjectType = 0x07
)

var typeNames = map[ObjectType]string{
	TypeOpaque: "opaque", TypeAuthenticationKey: "authentication-key", TypeAsymmetricKey: "asymmetric-key",
	TypeWrapKey: "wrap-key", TypeHMACKey: "hmac-key", TypeTemplate: "template", TypeOTPAEADKey: "otp-aead-key",
}

// String returns the type's yubihsm-shell name, e.g. "hmac-key".
func (t ObjectType) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// Algorithm is a YubiHSM 2 algorithm number.
type Algorithm byte

// Algorithms of the objects this package handles.
const (
	AlgHMACSHA1                   Algorithm = 19
	AlgHMACSHA256                 Algorithm = 20
	AlgHMACSHA384                 Algorithm = 21
	AlgHMACSHA512                 Algorithm = 22
	AlgAES128YubicoAuthentication Algorithm = 38
)

var algNames = map[Algorithm]string{
	AlgHMACSHA1: "hmac-sha1", AlgHMACSHA256: "hmac-sha256", AlgHMACSHA384: "hmac-sha384",
	AlgHMACSHA512: "hmac-sha512", AlgAES128YubicoAuthentication: "aes128-yubico-authentication",
}

// String returns the algorithm's yubihsm-shell name, e.g. "hmac-sha256".
func (a Algorithm) String() string {
	if n, ok := algNames[a]; ok {
		return n
	}
	return fmt.Sprintf("algorithm %d", byte(a))
}

// HMACSize returns the tag size of an HMAC algorithm and its largest key (one hash block;
// the device refuses longer keys), or zeros for other algorithms.
func (a Algorithm) HMACSize() (tag, maxKey int) {
	switch a {
	case AlgHMACSHA1:
		return 20, 64
	case AlgHMACSHA256:
		return 32, 64
	case AlgHMACSHA384:
		return 48, 128
	case AlgHMACSHA512:
		return 64, 128
	}
	return 0, 0
}

// Capabilities is the 64-bit capability set of an object or session (YubiHSM 2 concepts:
// Capability). A session may do what its authentication key's capabilities allow; an object
// created in it gets at most the key's delegated capabilities.
type Capabilities uint64

// Capability bits.
const (
	CapGetOpaque                  Capabilities = 1 << 0x00
	CapPutOpaque                  Capabilities = 1 << 0x01
	CapPutAuthenticationKey       Capabilities = 1 << 0x02
	CapPutAsymmetricKey           Capabilities = 1 << 0x03
	CapGenerateAsymmetricKey      Capabilities = 1 << 0x04
	CapSignPKCS                   Capabilities = 1 << 0x05
	CapSignPSS                    Capabilities = 1 << 0x06
	CapSignECDSA                  Capabilities = 1 << 0x07
	CapSignEdDSA                  Capabilities = 1 << 0x08
	CapDecryptPKCS                Capabilities = 1 << 0x09
	CapDecryptOAEP                Capabilities = 1 << 0x0a
	CapDeriveECDH                 Capabilities = 1 << 0x0b
	CapExportWrapped              Capabilities = 1 << 0x0c
	CapImportWrapped              Capabilities = 1 << 0x0d
	CapPutWrapKey                 Capabilities = 1 << 0x0e
	CapGenerateWrapKey            Capabilities = 1 << 0x0f
	CapExportableUnderWrap        Capabilities = 1 << 0x10
	CapSetOption                  Capabilities = 1 << 0x11
	CapGetOption                  Capabilities = 1 << 0x12
	CapGetPseudoRandom            Capabilities = 1 << 0x13
	CapPutHMACKey                 Capabilities = 1 << 0x14
	CapGenerateHMACKey            Capabilities = 1 << 0x15
	CapSignHMAC                   Capabilities = 1 << 0x16
	CapVerifyHMAC                 Capabilities = 1 << 0x17
	CapGetLogEntries              Capabilities = 1 << 0x18
	CapSignSSHCertificate         Capabilities = 1 << 0x19
	CapGetTemplate                Capabilities = 1 << 0x1a
	CapPutTemplate                Capabilities = 1 << 0x1b
	CapResetDevice                Capabilities = 1 << 0x1c
	CapDecryptOTP                 Capabilities = 1 << 0x1d
	CapCreateOTPAEAD              Capabilities = 1 << 0x1e
	CapRandomizeOTPAEAD           Capabilities = 1 << 0x1f
	CapRewrapFromOTPAEADKey       Capabilities = 1 << 0x20
	CapRewrapToOTPAEADKey         Capabilities = 1 << 0x21
	CapSignAttestationCertificate Capabilities = 1 << 0x22
	CapPutOTPAEADKey              Capabilities = 1 << 0x23
	CapGenerateOTPAEADKey         Capabilities = 1 << 0x24
	CapWrapData                   Capabilities = 1 << 0x25
	CapUnwrapData                 Capabilities = 1 << 0x26
	CapDeleteOpaque               Capabilities = 1 << 0x27
	CapDeleteAuthenticationKey    Capabilities = 1 << 0x28
	CapDeleteAsymmetricKey        Capabilities = 1 << 0x29
	CapDeleteWrapKey              Capabilities = 1 << 0x2a
	CapDeleteHMACKey              Capabilities = 1 << 0x2b
	CapDeleteTemplate             Capabilities = 1 << 0x2c
	CapDeleteOTPAEADKey           Capabilities = 1 << 0x2d
	CapChangeAuthenticationKey    Capabilities = 1 << 0x2e

	// CapAll is every capability above, what the factory authentication key 1 has.
	CapAll Capabilities = 1<<0x2f - 1
)

// capNames are the names yubihsm-shell uses (lib/yubihsm.h), indexed by bit.
var capNames = []string{
	"get-opaque", "put-opaque", "put-authentication-key", "put-asymmetric-key", "generate-asymmetric-key",
	"sign-pkcs", "sign-pss", "sign-ecdsa", "sign-eddsa", "decrypt-pkcs", "decrypt-oaep", "derive-ecdh",
	"export-wrapped", "import-wrapped", "put-wrap-key", "generate-wrap-key", "exportable-under-wrap",
	"set-option", "get-option", "get-pseudo-random", "put-mac-key", "generate-hmac-key", "sign-hmac",
	"verify-hmac", "get-log-entries", "sign-ssh-certificate", "get-template", "put-template",
	"reset-device", "decrypt-otp", "create-otp-aead", "randomize-otp-aead", "rewrap-from-otp-aead-key",
	"rewrap-to-otp-aead-key", "sign-attestation-certificate", "put-otp-aead-key",
	"generate-otp-aead-key", "wrap-data", "unwrap-data", "delete-opaque", "delete-authentication-key",
	"delete-asymmetric-key", "delete-wrap-key", "delete-hmac-key", "delete-template",
	"delete-otp-aead-key", "change-authentication-key",
}

// Has reports whether c holds every capability in want.
func (c Capabilities) Has(want Capabilities) bool { return c&want == want }

// String lists the capability names, comma-separated, e.g. "sign-hmac,verify-hmac".
func (c Capabilities) String() string {
	if c == 0 {
		return "none"
	}
	var names []string
	for v := uint64(c); v != 0; v &= v - 1 {
		i := bits.TrailingZeros64(v)
		if i < len(capNames) {
			names = append(names, capNames[i])
		} else {
			names = append(names, fmt.Sprintf("0x%x", uint64(1)<<i))
		}
	}
	return strings.Join(names, ",")
}

// DeleteCapability returns the capability DELETE_OBJECT needs for objects of type t.
func DeleteCapability(t ObjectType) Capabilities {
	switch t {
	case TypeOpaque:
		return CapDeleteOpaque
	case TypeAuthenticationKey:
		return CapDeleteAuthenticationKey
	case TypeAsymmetricKey:
		return CapDeleteAsymmetricKey
	case TypeWrapKey:
		return CapDeleteWrapKey
	case TypeHMACKey:
		return CapDeleteHMACKey
	case TypeTemplate:
		return CapDeleteTemplate
	case TypeOTPAEADKey:
		return CapDeleteOTPAEADKey
	}
	return 0
}

// Domains is the set of the 16 domains (bit 0 is domain 1). An object is visible to a
// session only when their domains intersect.
type Domains uint16

// DomainsAll holds all 16 domains, like the factory authentication key.
const DomainsAll Domains = 0xffff

// DomainSet returns the set holding the given domain numbers (1 to 16).
func DomainSet(domains ...int) (Domains, error) {
	var d Domains
	for _, n := range domains {
		if n < 1 || n > 16 {
			return 0, fmt.Errorf("yubihsm: domain %d is not 1 to 16", n)
		}
		d |= 1 << (n - 1)
	}
	return d, nil
}

// List returns the domain numbers in d, ascending.
func (d Domains) List() []int {
	var out []int
	for i := 0; i < 16; i++ {
		if d&(1<<i) != 0 {
			out = append(out, i+1)
		}
	}
	return out
}

// String lists the domain numbers, e.g. "1,2".
func (d Domains) String() string {
	var s []string
	for _, n := range d.List() {
		s = append(s, fmt.Sprint(n))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

// LabelSize is the fixed size of an object label on the wire.
const LabelSize = 40

// Origin says how an object came to the device.
type Origin byte

// Origin bits.
const (
	OriginGenerated       Origin = 0x01
	OriginImported        Origin = 0x02
	OriginImportedWrapped Origin = 0x10
)

// String names the origin, e.g. "imported".
func (o Origin) String() string {
	var s []string
	if o&OriginGenerated != 0 {
		s = append(s, "generated")
	}
	if o&OriginImported != 0 {
		s = append(s, "imported")
	}
	if o&OriginImportedWrapped != 0 {
		s = append(s, "imported-wrapped")
	}
	if len(s) == 0 {
		return fmt.Sprintf("origin 0x%02x", byte(o))
	}
	return strings.Join(s, ",")
}
