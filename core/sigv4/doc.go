// Package sigv4 signs HTTP requests with AWS Signature Version 4 without holding the secret
// access key.
//
// SigV4 derives its signing key as a chain of HMAC-SHA256 (AWS General Reference, "Create a
// signed AWS API request", step 4 "Calculate the signature"):
//
//	kDate    = HMAC("AWS4"+secret, yyyymmdd)
//	kRegion  = HMAC(kDate, region)
//	kService = HMAC(kRegion, service)
//	kSigning = HMAC(kService, "aws4_request")
//
// Only the first link needs the secret. A [Deriver] computes it, usually inside a hardware
// device reached through an awskeep plugin; this package does the rest in software:
// canonical request, string to sign, the rest of the key chain and the signature, either as an
// Authorization header ([Signer.SignHTTP]) or as a presigned URL ([Signer.PresignHTTP]).
//
// The canonical form follows aws-sdk-go-v2 aws/signer/v4 (v1.47.7) so that a request signed
// here carries the same Authorization header as one signed by the SDK with the secret itself;
// the tests check this against the SDK and against the 38 cases of the AWS signing test suite
// (testdata/aws-signing-test-suite). Where this package deliberately differs from the SDK
// (it rejects requests the SDK would sign but no server could verify) the documentation of
// [Signer.SignHTTP] says so.
//
// Package sts uses the Signer for AssumeRole and GetSessionToken; anything that needs to
// sign an AWS request with a device-held key can use it directly.
package sigv4
