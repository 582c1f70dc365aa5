// Package audit checks and reports a YubiHSM 2 audit log for awskeep audit: it verifies the
// log's hash chain (a broken link is tampering, named by its entry number), carries the
// chain from one read to the next in a small state file, places the device's ticks in wall
// time with anchors awskeep records itself, and lists each HMAC signing with its time, key
// and session, flagging those outside working hours.
//
// The log's format is the device's (YubiHSM 2 command GET_LOG_ENTRIES; python-yubihsm
// LogEntry), held in plugins.AuditLogEntry: the host verifies it itself, from the entries
// the plugin passes on, so that a plugin cannot hide an entry it does not like. Only the YubiHSM 2 keeps such a
// log among awskeep's backends; docs/audit.md says what PKCS#11 and TPM users can use
// instead.
package audit
