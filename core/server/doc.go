// Package server serves awskeep's credentials to long-running clients over the two local
// HTTP protocols that every AWS SDK and CLI already speaks (DESIGN.md, "The shape of the
// product": the serve sink):
//
//   - the container credential provider ("Container credential provider" in the AWS SDKs
//     and Tools Reference Guide, https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html):
//     clients given AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/awskeep/credentials
//     and AWS_CONTAINER_AUTHORIZATION_TOKEN send GET with the token as the Authorization
//     header and read JSON credentials;
//   - an emulation of IMDSv2, the EC2 instance metadata service ("Use IMDSv2" and "How
//     Instance Metadata Service Version 2 works" in the Amazon EC2 User Guide,
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html):
//     clients given AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT/ PUT
//     /latest/api/token for a session token, then GET the role's credentials with it.
//
// Handler builds the http.Handler; the command (awskeep serve, exec --server) owns the
// listener, binds it to loopback and wraps the provider in a refresh.Provider, so that no
// request waits for the device or STS after the first.
//
// Following DESIGN.md's security rules, every request is authenticated: the ECS endpoint by
// a random bearer token (Token) compared in constant time, the IMDS routes by a session
// token of their own. Refusals carry no body and no hint. IMDSv1 (a GET without a session
// token) is refused, as are requests a proxy forwarded (X-Forwarded-For, as EC2 does) and
// requests a browser sent (Origin: a browser adds it to every PUT, even a same-origin one
// after DNS rebinding, and no SDK sends it). The debug log names the method, path, status
// and duration of each request, never a token or a credential.
package server
