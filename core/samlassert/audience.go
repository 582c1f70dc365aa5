package samlassert

import "strings"

// The audiences AWS sign-in answers to (IAM User Guide, "Configure your SAML 2.0 IdP with
// relying party trust"): the entity ID of AWS's SAML metadata, and the sign-in endpoint URL,
// global or regional.
const (
	// AudienceURN is the entity ID in https://signin.aws.amazon.com/static/saml-metadata.xml.
	AudienceURN = "urn:amazon:webservices"
	// AudienceSignIn is the global sign-in endpoint, also the ACS URL IdPs post to.
	AudienceSignIn = "https://signin.aws.amazon.com/saml"
)

// signInDomains are the sign-in hosts of the AWS partitions: the commercial one, China and
// GovCloud (US).
var signInDomains = []string{"signin.aws.amazon.com", "signin.amazonaws.cn", "signin.amazonaws-us-gov.com"}

// IsAWSAudience reports whether aud names AWS sign-in as the audience of an assertion. It
// accepts:
//
//   - "urn:amazon:webservices", and the partition forms "urn:amazon:webservices:cn-north-1"
//     and "urn:amazon:webservices:govcloud";
//   - "https://signin.aws.amazon.com/saml" and the regional
//     "https://REGION.signin.aws.amazon.com/saml", and the same for the China
//     (signin.amazonaws.cn) and GovCloud (signin.amazonaws-us-gov.com) sign-in hosts;
//   - any of these URLs with a fragment: Microsoft Entra ID tells several AWS applications
//     apart with identifiers such as "https://signin.aws.amazon.com/saml#2".
//
// The check guards against a login at the wrong IdP application, not against forgery: STS
// checks the audience itself.
func IsAWSAudience(aud string) bool {
	aud = strings.TrimSpace(aud)
	if rest, ok := strings.CutPrefix(aud, AudienceURN); ok {
		if rest == "" {
			return true
		}
		suffix, ok := strings.CutPrefix(rest, ":")
		return ok && isLabel(suffix)
	}
	u, ok := strings.CutPrefix(aud, "https://")
	if !ok {
		return false
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	host, ok := strings.CutSuffix(u, "/saml")
	if !ok {
		return false
	}
	for _, domain := range signInDomains {
		if host == domain {
			return true
		}
		if region, ok := strings.CutSuffix(host, "."+domain); ok && isLabel(region) {
			return true
		}
	}
	return false
}

// isLabel reports whether s looks like a region name or a partition tag: lower-case letters,
// digits and inner hyphens.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
