// Package sim simulates a YubiHSM 2 behind yubihsm-connector, for tests and demos where no
// device exists.
//
// A [Device] answers command frames the way the YubiHSM 2 command reference describes:
// CREATE_SESSION and AUTHENTICATE_SESSION with the host cryptogram and C-MAC checked,
// SESSION_MESSAGE with every C-MAC verified and every response R-MAC'd and encrypted, 16
// session slots that expire after 30 s idle (on an injectable clock), capability and domain
// checks on the session's authentication key and on the object, and the device's error codes
// in clear or inside the session as the real device sends them. Inside a session it runs
// ECHO, PUT_HMAC_KEY, GENERATE_HMAC_KEY, SIGN_HMAC, VERIFY_HMAC, GET_OBJECT_INFO,
// LIST_OBJECTS, DELETE_OBJECT, PUT_AUTHENTICATION_KEY, GET_LOG_ENTRIES, SET_LOG_INDEX,
// SET_OPTION and GET_OPTION (force-audit, command-audit) and CLOSE_SESSION; in clear ECHO
// and DEVICE_INFO. It keeps the audit log the way the device does (log.go): 62 hash-chained
// entries, per-command audit settings, force audit with LOG_FULL, unlogged boot and
// authentication counters, boots ([Device.Reboot]) and resets, and a tick per boot. A fresh device holds only the factory authentication key 1 (all capabilities,
// all domains) with a configurable password, "password" by default.
//
// Device is an http.Handler serving the connector's API (POST /connector/api, GET
// /connector/status); [Listen] runs it on a local port. For tests it injects faults (HTTP
// 500, a dropped connection before or after the device ran the command, a corrupted response
// MAC), expires sessions on demand and counts what it was sent. The awskeep-yubihsm-sim
// command serves one over TCP.
package sim
