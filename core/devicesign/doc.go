// Package devicesign lets Go programs built on aws-sdk-go-v2 use an AWS access key whose
// secret is in a hardware device (a PKCS#11 HSM, a YubiHSM 2, a TPM 2.0, ...) reached through
// an awskeep plugin. The secret never enters the program: the device computes the first
// HMAC of the Signature Version 4 key derivation and package sigv4 does the rest.
//
// [Open] starts the key's plugin and keeps it running until [Key.Close]; the Key then serves
// three uses:
//
//   - [Key.Apply] makes every service client built from an aws.Config sign each request
//     with the device key directly: no STS call, no temporary credentials. The derived
//     signing key is cached in memory per (date, region, service) and zeroed when its date
//     ends or the Key closes, so the device computes one HMAC per day and scope; with
//     [Options.NoSigningKeyCache] every request costs one device operation instead (an
//     audit trail in the device's log for every request).
//   - [Key.CredentialsProvider] is an aws.CredentialsProvider that gets temporary
//     credentials from STS (AssumeRole with the profile's awskeep_role_arn, else
//     GetSessionToken) signed by the device; wrap it in aws.NewCredentialsCache.
//   - [Key.Signer] presigns URLs (S3 objects, an STS GetCallerIdentity for EKS tokens) for
//     the SDK's presign clients, and [Key.Presign] and [Key.SignHTTP] sign raw requests.
//
// Settings come from a profile of the AWS config file, as for the awskeep command
// (awskeep_key, awskeep_access_key_id, region, awskeep_role_arn, ...), or from
// [Options] directly. docs/go-sdk.md walks through each use.
//
// What Apply covers: the "aws.auth#sigv4" scheme of every service client. Services that
// sign with SigV4a (S3 multi-region access points), S3 Express One Zone sessions or bearer
// tokens are not signed by the device; a client of a service without a SigV4 signer option
// fails its calls with an error that says so rather than send unsigned requests.
package devicesign
