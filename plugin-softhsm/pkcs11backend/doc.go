// Package pkcs11backend is the awskeep backend for PKCS#11 tokens: it serves "pkcs11:" key
// URIs (RFC 7512) for the plugin binary awskeep-plugin-pkcs11. SoftHSM2 is its reference
// token; any vendor's PKCS#11 module works through the URI's module-path attribute.
//
// A key is a CKO_SECRET_KEY of type CKK_GENERIC_SECRET holding "AWS4"+secret, created with
// CKA_SENSITIVE true and CKA_EXTRACTABLE false, so the token never lets the value out; the
// backend computes CKM_SHA256_HMAC with it (PKCS#11 v2.40 Current Mechanisms section 2.25.4).
//
// A URI names the module (query module-path, default /usr/lib/softhsm/libsofthsm2.so), the
// token (path token, serial, manufacturer, model, slot-id, and the other RFC 7512 section 2.3
// token, slot and library attributes) and the key (object = CKA_LABEL, id = CKA_ID):
//
//	pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so
//
// Process model. PKCS#11 state is per process: C_Initialize runs once per module and
// C_Login once per token, then every session of the process shares the login. The backend
// therefore keeps modules, tokens and their session pools in a process-wide registry shared
// by every Backend value. It never calls C_Logout or C_Finalize (either would pull the login
// from under concurrent requests) and keeps the login session open for the life of the
// process, because closing a token's last session logs the user out. A wrong PIN is tried
// exactly once; once logged in, a request carrying a different PIN is refused without
// asking the token, since the token would not check it. Token lookups are remembered until
// the token reports that it is gone; the key is looked up on every request, so a key
// deleted or duplicated by another process is noticed at once.
//
// Cancellation: a context is checked before the first PKCS#11 call and between calls, but
// a call in progress cannot be interrupted (PKCS#11 has no cancel for C_Sign), so a
// cancelled request returns when the token answers. ImportKey stops consulting the
// context once it has created the key, so that an import completes or is undone, and
// Close (which plugins.Serve calls when the host ends the plugin) waits for it.
//
// Replacing a key: PKCS#11 has no transactions and no atomic replace, so ImportKey with
// Overwrite creates the new key under a temporary label that no URI selects
// ("awskeep-tmp-pending:object=prod"), checks it, marks it committed
// ("awskeep-tmp-committed:object=prod"), deletes the old key and renames the new one. An
// interruption at any point leaves the URI naming exactly one key, the old or the new,
// never two: the only moment without a key is healed by the next operation on the URI,
// which renames a committed key when it finds none. The next import, and DeleteKey, remove
// what an interrupted replacement left; DescribeKey reports it ("interrupted-import").
//
// Listing keys (ListKeys, protocol 1.3): a URI naming a token ("pkcs11:token=aws", object=
// and id= left out or ignored) lists the token's awskeep keys (sensitive, non-extractable,
// signing CKK_GENERIC_SECRET or CKK_SHA256_HMAC secret keys, less the temporary keys of a
// replacement) with URIs that name each by object= and id=. ImportKey dates a key with
// CKA_START_DATE where the token can read the date back; SoftHSM 2.6 cannot for private
// objects (SoftHSMv2 issues 655 and 804), so its keys are listed without a date.
//
// The package needs cgo (it loads the module with dlopen). Built with CGO_ENABLED=0, every
// operation but Info fails with an error wrapping plugins.ErrUnsupported.
//
// Users: the plugin main in cmd/awskeep-plugin-pkcs11 and tests that want a PKCS#11 backend
// in process.
package pkcs11backend
