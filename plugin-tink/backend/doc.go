// Package backend is the awskeep backend for Tink keysets wrapped by AWS KMS: it implements
// plugins.Backend for key URIs of the tink scheme. The plugin binary awskeep-plugin-tink
// serves it.
//
// A key URI names the keyset file and the KMS key that encrypts it:
//
//	tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://arn:aws:kms:eu-west-1:111122223333:key/ID&kms-endpoint=https://kms.eu-west-1.amazonaws.com&region=eu-west-1&profile=kms
//
// file (an absolute path) and kek are required; region defaults to the ARN's and must
// match it; kms-endpoint (https, or http on a loopback address) and profile (an AWS
// profile of the plugin's shared config) are optional. The backend has no PIN; today's
// host still resolves one for every key, so a tink URI given to awskeep carries an empty
// pin-value= (see docs/backend-tink.md).
//
// ImportKey writes "AWS4"+secret as the one key of a Tink keyset (HMAC-SHA256, 32-byte
// tag, output prefix RAW, so the MAC is plain HMAC-SHA256), encrypted with the KMS key as
// Tink's EncryptedKeyset JSON (KMS Encrypt with Tink's "associatedData" encryption context
// convention, empty here), mode 0600, written atomically. HMAC decrypts the keyset with
// KMS once per plugin process and file version and keeps the Tink MAC primitive.
//
// This is weaker than a device, and the backend says so: it declares
// plugins.CapabilitySoftwareWrapped, and DescribeKey reports Extractable true and
// Sensitive false. The secret is in the plugin's memory while it runs, and whoever has the
// file and kms:Decrypt on the key can recover it. Its value is that the file alone is
// useless without KMS access, which is logged in CloudTrail and can be revoked.
//
// KMS errors become the contract's: AccessDeniedException and refused credentials
// ErrPermissionDenied, IncorrectKeyException (a keyset of another KMS key) and an unknown
// key ErrInvalidKeyURI, an unreachable or failing KMS ErrDeviceUnavailable, a tampered
// keyset (InvalidCiphertextException) ErrDevice. A missing file is ErrKeyNotFound.
package backend
