package samlassert

import "strings"

// Role is one value of the assertion's Role attribute: the IAM role the user may take and the
// IAM SAML provider that vouches for the IdP, the two ARNs STS AssumeRoleWithSAML takes as
// RoleArn and PrincipalArn.
type Role struct {
	RoleARN      string // arn:aws:iam::123456789012:role/NAME
	PrincipalARN string // arn:aws:iam::123456789012:saml-provider/NAME
}

// parseRoleValue reads "role,principal" or "principal,role" (AWS accepts both orders),
// telling the two apart by their resource type, ":role/" or ":saml-provider/".
func parseRoleValue(v string) (Role, bool) {
	first, second, ok := strings.Cut(v, ",")
	if !ok || strings.Contains(second, ",") {
		return Role{}, false
	}
	var r Role
	for _, part := range []string{first, second} {
		part = strings.TrimSpace(part)
		switch iamResourceType(part) {
		case "role":
			if r.RoleARN != "" {
				return Role{}, false
			}
			r.RoleARN = part
		case "saml-provider":
			if r.PrincipalARN != "" {
				return Role{}, false
			}
			r.PrincipalARN = part
		default:
			return Role{}, false
		}
	}
	return r, true
}

// iamResourceType returns "role" or "saml-provider" for an IAM ARN of that kind
// (arn:PARTITION:iam::ACCOUNT:role/PATH/NAME, arn:PARTITION:iam::ACCOUNT:saml-provider/NAME),
// and "" for anything else.
func iamResourceType(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !isLabel(parts[1]) || parts[2] != "iam" || parts[3] != "" || !isAccount(parts[4]) {
		return ""
	}
	for _, kind := range []string{"role", "saml-provider"} {
		name, ok := strings.CutPrefix(parts[5], kind+"/")
		if ok && name != "" && printable(name) {
			return kind
		}
	}
	return ""
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable reports whether s holds only visible ASCII, as IAM names and paths do.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func containsRole(roles []Role, r Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
