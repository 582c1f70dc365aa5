package awsendpoint

import (
	"fmt"
	"strings"
)

// URL returns the https endpoint (scheme and host, no path) that verifies requests signed
// for s, as aws-sdk-go-v2 resolves it without FIPS, dual-stack or a custom endpoint:
// https://sts.eu-west-1.amazonaws.com, https://s3.eu-west-1.amazonaws.com,
// https://sts.cn-north-1.amazonaws.com.cn, https://email.us-east-1.amazonaws.com for
// signing name "ses" (the inverse of the table in signingname.go).
//
// A global service has one endpoint for its whole partition ("AWS service endpoints"):
// URL(Scope{"iam", "eu-west-1"}) is https://iam.amazonaws.com, which accepts requests only
// when signed for the partition's region, us-east-1; [Infer] of the returned host gives
// the scope to sign with. For a scope that Infer returned, that is the scope itself: Infer
// of the host URL returns gives back every scope Infer returns.
//
// URL returns an error wrapping ErrInvalidScope when the region does not look like a region
// or the service cannot be a host label, and one wrapping ErrNoEndpoint when the signing
// name does not tell the endpoint: several APIs share it (lex, aws-marketplace, chime,
// timestream) or the host is a customer's resource (execute-api, rds-db, neptune-db).
func URL(s Scope) (string, error) {
	if !isRegion(s.Region) {
		return "", fmt.Errorf("%w: %q is not an AWS region", ErrInvalidScope, s.Region)
	}
	prefix := s.Service
	if e := byName[s.Service]; e != nil {
		if e.url == noURL {
			return "", fmt.Errorf("%w: several AWS endpoints, or a resource of yours, sign as %q", ErrNoEndpoint, s.Service)
		}
		prefix = e.prefix
	} else if !serviceLabel(s.Service) {
		return "", fmt.Errorf("%w: %q is not an AWS signing name", ErrInvalidScope, s.Service)
	}
	p := partitionOf(s.Region)
	if g := globalOf(prefix, p); g != nil && g.host != "" && (!g.regional || g.region == s.Region) {
		return "https://" + g.host, nil
	}
	suffix := p.suffixes[0]
	if dualStackOnly[prefix] && len(p.suffixes) > 1 {
		suffix = p.suffixes[1]
	}
	if pp, ok := partitionPrefix[[2]string{prefix, p.id}]; ok {
		prefix = pp
	}
	return "https://" + prefix + "." + s.Region + "." + suffix, nil
}

// dualStackOnly are the services whose regional endpoints the endpoints model puts under
// the partition's dual-stack suffix only: datazone.us-east-1.api.aws.
var dualStackOnly = map[string]bool{
	"datazone": true, "eks-auth": true, "gameliftstreams": true, "internetmonitor": true,
	"kendra-ranking": true, "notifications": true, "qbusiness": true,
}

// partitionPrefix are the endpoint prefixes that differ in one partition, by prefix and
// partition: the endpoints model has cn.transcribe.cn-north-1.amazonaws.com.cn.
var partitionPrefix = map[[2]string]string{
	{"transcribe", "aws-cn"}: "cn.transcribe",
}

// serviceLabel reports whether name can be the endpoint prefix of a host: a DNS label of
// lower-case letters, digits and hyphens that starts with a letter.
func serviceLabel(name string) bool {
	if name == "" || len(name) > maxLabel || name[0] < 'a' || name[0] > 'z' || name[len(name)-1] == '-' {
		return false
	}
	return strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
