// Package signproxy is the local signing proxy behind `awskeep proxy`: an HTTP endpoint on
// the loopback interface for AWS clients that cannot load Go code (boto3, the AWS CLI,
// Terraform). The clients get a random local key pair (LocalKey) and this endpoint as
// their AWS endpoint URL. For each request the proxy
//
//  1. verifies the client's SigV4 header signature with the local pair (anything else:
//     403 with an AWS-style error body, and nothing goes upstream);
//  2. re-signs the request with the device key for the same service and region, at the
//     proxy's own clock (a body of signed chunks, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, is
//     re-signed chunk by chunk);
//  3. forwards it to the upstream (Options.Upstream, else the AWS endpoint of the service
//     and region) and streams the response back unchanged.
//
// Bodies stream: a body whose hash the client declared (X-Amz-Content-Sha256, S3) is
// forwarded as it arrives and hashed on the way, and a body that does not match its
// declared hash is cut off so that the upstream rejects it; only bodies without a declared
// hash (the query and JSON APIs, whose requests are small) are read to hash them, up to
// Options.MaxBufferedBody.
//
// The local pair authenticates clients of this one proxy and nothing else: it never
// reaches AWS, and a request signed with it is useless anywhere but here.
package signproxy
