// Package backend is the awskeep backend for HashiCorp Vault's transit secrets engine: it
// implements plugins.Backend for key URIs of the vault scheme over Vault's HTTP API (plain
// net/http, so the plugin links none of Vault's own code). The plugin binary
// awskeep-plugin-vault serves it.
//
// A key URI names a transit key and how to reach Vault:
//
//	vault:key=prod?addr=https://vault.example:8200&mount=transit&namespace=team-a
//
// addr defaults to $VAULT_ADDR, then https://127.0.0.1:8200; mount to "transit"; namespace
// to $VAULT_NAMESPACE (Vault Enterprise). $VAULT_CACERT names a PEM file of CA certificates
// for https. Key.PIN is the Vault token (the host resolves it from pin-source, pin-value,
// $AWSKEEP_PIN or a prompt); an empty PIN falls back to $VAULT_TOKEN. With auth=approle and
// role-id=ID the PIN is instead the AppRole secret ID, exchanged for a token at
// auth/approle/login (auth-mount= names another mount).
//
// ImportKey uses transit's bring-your-own-key path so that the secret never crosses the
// network in clear: it reads the engine's RSA wrapping key (GET MOUNT/wrapping_key), wraps an
// ephemeral AES-256 key with RSA-OAEP-SHA256, wraps "AWS4"+secret under it with AES-KWP
// (RFC 5649), and posts both to MOUNT/keys/NAME/import as an hmac key with exportable=false
// and allow_plaintext_backup=false. HMAC is MOUNT/hmac/NAME/sha2-256, DescribeKey reads
// MOUNT/keys/NAME, DeleteKey sets deletion_allowed on MOUNT/keys/NAME/config (transit
// refuses to delete a key without it) and then deletes MOUNT/keys/NAME.
//
// Vault's answers become the contract's errors: a token Vault does not know is
// ErrPINIncorrect (never retried: no request is ever repeated), a token without the
// capability ErrPermissionDenied, a sealed, standby-less or unreachable Vault
// ErrDeviceUnavailable, a missing key ErrKeyNotFound.
package backend
