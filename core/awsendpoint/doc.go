// Package awsendpoint maps between the host of an AWS endpoint and the SigV4 scope
// (signing name and region) that requests to it are signed for.
//
// [Infer] reads the scope from a URL host: `awskeep curl` and `awskeep presign` use it so
// that a user can write https://sts.eu-west-1.amazonaws.com/ without --service and --region.
// [URL] goes the other way: `awskeep proxy` uses it to find the AWS endpoint that verifies a
// request it re-signs for a scope.
//
// The host forms are those of the AWS General Reference, "AWS service endpoints"
// (service.region.amazonaws.com, the global endpoints, FIPS and dual-stack variants), of
// the Amazon S3 User Guide, "Virtual hosting of buckets" (bucket.s3.region.amazonaws.com
// and the legacy s3-region and s3.amazonaws.com forms), and of the endpoints model that
// aws-sdk-go-v2 and botocore generate their endpoint rules from: the partitions of
// internal/endpoints/awsrulesfn/partitions.json, the global endpoints and credential scopes
// of endpoints.json, and the signingName of each service model where it differs from the
// endpoint prefix. The package knows no list of services: a prefix.region.amazonaws.com
// host signs as the last label of its prefix (bucket.s3 as s3, runtime.sagemaker as
// sagemaker) unless the table of exceptions in signingname.go says otherwise.
//
// The package is pure: no DNS, no network, no configuration.
package awsendpoint
