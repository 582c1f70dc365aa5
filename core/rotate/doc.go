// Package rotate rotates an AWS access key whose secret lives in a device: it asks IAM for
// a new access key, signing with the old key through the device (temporary credentials
// from GetSessionToken cannot call IAM without MFA, so this is direct signing), imports the
// new secret from IAM's answer straight into the same device as a new object, proves the
// new key with an STS GetCallerIdentity signed by it, points the profile at it, and retires
// the old key (Inactive, then deleted with its device object unless the old one is kept).
//
// Every step is recorded in a journal (a small JSON file, mode 0600, in the awskeep state
// directory, holding key ids and URIs, never a secret) before the next begins, and a file
// lock serialises rotations of one profile. A process killed at any point leaves a profile
// that works with one of the two keys, and [Run] called again for the profile reads the
// journal and finishes the rotation, or rolls back what cannot be finished: a new access
// key whose secret was lost before it reached the device is deleted (signed with the old
// key) and the rotation starts over.
//
// The secret of the new key exists only in this process's memory, between IAM's answer and
// the device's import; it is never logged, printed, written or put in an error.
//
// The user of this package is `awskeep rotate` (cmd/awskeep-full/rotate.go); docs/rotate.md
// describes the command, the IAM permissions it needs and what each error asks of the user.
package rotate
