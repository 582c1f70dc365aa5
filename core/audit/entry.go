package audit

import (
	"fmt"

	"github.com/awskeep/awskeep/plugins"
)

// Log entries are plugins.AuditLogEntry, the SDK's type that crosses the plugin protocol:
// it holds the device's encoding (Bytes, plugins.ParseAuditLogEntry) and the digest chain
// (Follows, plugins.AuditLogDigest). This file adds what the report needs to read them.

// Command bytes the report names (YubiHSM 2 command reference).
const (
	CmdBoot          = 0x00
	CmdReset         = 0xff
	CmdGetObjectInfo = 0x4e
	CmdSignHMAC      = 0x53
	// resultFlag is set in Result when the command succeeded (Result = Command|0x80).
	resultFlag = 0x80
	// NoKey is the key id of an entry that names no key.
	NoKey = 0xffff
)

// follows reports whether e is the entry after one with number n and digest d.
func follows(e plugins.AuditLogEntry, n uint16, d [plugins.AuditLogDigestSize]byte) bool {
	return e.Number == n+1 && e.Follows(plugins.AuditLogEntry{Number: n, Digest: d})
}

// succeeded reports whether the logged command succeeded.
func succeeded(e plugins.AuditLogEntry) bool { return e.Result == e.Command|resultFlag }

// CommandName names a logged command byte, e.g. "SIGN_HMAC".
func CommandName(command uint8) string {
	if n, ok := commandNames[command]; ok {
		return n
	}
	return fmt.Sprintf("command 0x%02x", command)
}

var commandNames = map[byte]string{
	CmdBoot: "BOOT", CmdReset: "RESET", 0x03: "CREATE_SESSION", 0x04: "AUTHENTICATE_SESSION",
	0x08: "RESET_DEVICE", 0x40: "CLOSE_SESSION", 0x44: "PUT_AUTHENTICATION_KEY", 0x48: "LIST_OBJECTS",
	0x4a: "EXPORT_WRAPPED", 0x4b: "IMPORT_WRAPPED", 0x4c: "PUT_WRAP_KEY", CmdGetObjectInfo: "GET_OBJECT_INFO",
	0x4f: "SET_OPTION", 0x50: "GET_OPTION", 0x51: "GET_PSEUDO_RANDOM", 0x52: "PUT_HMAC_KEY",
	CmdSignHMAC: "SIGN_HMAC", 0x58: "DELETE_OBJECT", 0x5a: "GENERATE_HMAC_KEY", 0x5c: "VERIFY_HMAC",
	0x67: "SET_LOG_INDEX", 0x6c: "CHANGE_AUTHENTICATION_KEY",
}
