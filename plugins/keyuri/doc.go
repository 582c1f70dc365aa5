// Package keyuri parses and prints the key URIs that name keys in awskeep.
//
// A scheme's attribute vocabulary is its [Schema]. Three schemes have one built in:
//
//   - pkcs11: RFC 7512, e.g.
//     pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
//   - tpm: tpm:handle=0x81010002 or tpm:file=/etc/awskeep/prod.tss2.pem, with query attributes
//     device, pcrs, pin-source and pin-value.
//   - yubihsm: yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1
//
// A backend for another scheme registers its own with [Register] from an init function;
// [Parse] then rejects unknown attributes, missing required ones and whatever the schema's
// Check refuses, with errors wrapping plugins.ErrInvalidKeyURI, and the backend reads
// attributes without validating them again ([ParseFor] also checks the scheme). A scheme
// nobody registered (in the host, which does not link backends, every scheme but the three
// above) accepts any attribute names: the host needs only the scheme, to find the plugin,
// and pin-source or pin-value, to resolve the PIN; the plugin validates the rest.
//
// The grammar is RFC 7512's for all schemes: "scheme:" then path attributes separated by
// ";", then optionally "?" and query attributes separated by "&"; each attribute is
// name=value with the value percent-encoded (RFC 3986 section 2.1). Outside pkcs11, a path
// value may also hold "/" so that file names read naturally.
//
// Both the host and backends use this package: the host to find the plugin (the scheme names
// it) and to resolve PINs, backends to find the key. [URI.String] never prints pin-value.
package keyuri
