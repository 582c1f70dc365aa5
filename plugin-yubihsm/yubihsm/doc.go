// Package yubihsm is a client for the YubiHSM 2 through yubihsm-connector, in pure Go.
//
// A [Connector] speaks the connector's HTTP API (POST /connector/api carries one command
// frame, GET /connector/status reports the device) and lets one request through at a time.
// A [Client] opens an authenticated, encrypted session with one authentication key
// (CREATE_SESSION, AUTHENTICATE_SESSION with the card cryptogram checked), keeps it for
// later calls, and sends commands inside it (SESSION_MESSAGE, every response MAC verified).
// It re-opens the session once, transparently, when the device has dropped it (idle expiry
// after 30 s, INVALID_SESSION); a wrong password is never retried.
//
// Commands: PUT_HMAC_KEY, GENERATE_HMAC_KEY, SIGN_HMAC, VERIFY_HMAC, GET_OBJECT_INFO,
// LIST_OBJECTS, DELETE_OBJECT, PUT_AUTHENTICATION_KEY, DEVICE_INFO, CLOSE_SESSION. Device
// errors come back as [*DeviceError], which unwraps to an [ErrorCode]
// (errors.Is(err, ErrObjectNotFound)). The awskeep backend (package backend) translates them
// into the plugin contract's errors; the device simulator (package sim) serves the other end.
//
// The audit log's [LogEntry] repeats the plugin SDK's plugins.AuditLogEntry on purpose: this is
// a device library that the simulator and any program can use without the plugin protocol,
// so it does not import the SDK, and package backend converts one to the other at the edge.
package yubihsm
