// Package sts obtains temporary AWS credentials from AWS Security Token Service with a
// long-term key that lives in a device: GetSessionToken, AssumeRole and GetCallerIdentity
// through aws-sdk-go-v2's service/sts, with its SigV4 signer replaced by the split signer of
// package sigv4 (Options.HTTPSignerV4), so the secret access key is never in memory.
//
// Requests go as form-encoded POSTs (the AWS Query protocol), as the SDK sends them.
// Errors keep their identity: a device error (wrong PIN) still matches the plugins
// sentinels with errors.Is, an STS refusal is an *APIError with AWS's error code, and an
// unreachable endpoint says so.
package sts
