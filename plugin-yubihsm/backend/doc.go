// Package backend is the awskeep backend for the YubiHSM 2: it implements plugins.Backend for
// key URIs of the yubihsm scheme, talking to the device through yubihsm-connector with
// package yubihsm. The plugin binary awskeep-plugin-yubihsm serves it.
//
// A key URI names an HMAC key object and how to reach it:
//
//	yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1&domains=1,2&label=prod
//
// Key.PIN is the password of the authentication key auth-key-id (default 1). connector
// defaults to http://127.0.0.1:12345, domains to 1, label to "awskeep-" and the object id.
//
// ImportKey stores "AWS4"+secret with PUT_HMAC_KEY as an hmac-sha256 key whose only
// capability is sign-hmac: not exportable under wrap, so it never leaves the device. HMAC is
// SIGN_HMAC, DescribeKey GET_OBJECT_INFO, DeleteKey DELETE_OBJECT. Device codes become the
// contract's errors: object not found is ErrKeyNotFound, object exists ErrKeyExists,
// insufficient permissions ErrPermissionDenied, a refused password ErrPINIncorrect (never
// retried), a connector that cannot be reached or all 16 sessions in use
// ErrDeviceUnavailable.
//
// Protocol 1.3's optional operations: ListKeys is LIST_OBJECTS (hmac-sha256 keys) and
// GET_OBJECT_INFO for each label, on a URI whose object-id may be left out
// ("yubihsm:?connector=..."); AuditLog is GET_LOG_ENTRIES, passed on untouched for the host
// to verify, and SET_LOG_INDEX when asked to mark entries read (the authentication key needs
// the get-log-entries capability). What the device logs is its command-audit and
// force-audit options' business: see docs/audit.md.
//
// One SIGN_HMAC carries at most 2026 bytes (the device's 2048-byte frame less the session's
// framing, padding and MAC); longer messages are refused with ErrMessageTooLarge.
package backend
