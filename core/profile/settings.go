package profile

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// KnownSettings are the awskeep_* keys a profile may hold, sorted. Any other
// key starting with awskeep_ is an error, so a typo does not silently fall
// back to a default.
var KnownSettings = []string{
	"awskeep_access_key_id",
	"awskeep_conjur_account",
	"awskeep_conjur_api_key_source",
	"awskeep_conjur_cert_file",
	"awskeep_conjur_login",
	"awskeep_conjur_url",
	"awskeep_key",
	"awskeep_mfa_process",
	"awskeep_role_arn",
	"awskeep_saml_password_source",
	"awskeep_saml_provider",
	"awskeep_saml_role_arn",
	"awskeep_saml_url",
	"awskeep_saml_username",
	"awskeep_source",
}

// known is KnownSettings for this package's own use: a caller that changes
// the exported slice does not change what Parse accepts.
var known = append([]string(nil), KnownSettings...)

const (
	awskeepPrefix = "awskeep_"
	samlPrefix    = "awskeep_saml_"
	conjurPrefix  = "awskeep_conjur_"
)

// set stores one setting of the profile. value is trimmed and not empty;
// line is where the setting is, for messages.
func (p *Profile) set(key, value string, line int) error {
	switch key {
	case "awskeep_source":
		if value != "device" && value != "saml" {
			return p.errorf(line, key, "awskeep_source %s in [%s]: must be device or saml", quoteShort(value), printable(p.section))
		}
		p.Source = value
	case "awskeep_key":
		p.Key = value
	case "awskeep_access_key_id":
		p.AccessKeyID = value
	case "awskeep_role_arn":
		p.RoleARN = value
	case "awskeep_mfa_process":
		p.MFAProcess = value
	case "awskeep_saml_url", "awskeep_saml_provider", "awskeep_saml_username",
		"awskeep_saml_password_source", "awskeep_saml_role_arn":
		if p.SAML == nil {
			p.SAML = map[string]string{}
		}
		p.SAML[strings.TrimPrefix(key, samlPrefix)] = value
	case "awskeep_conjur_url", "awskeep_conjur_account", "awskeep_conjur_login",
		"awskeep_conjur_cert_file", "awskeep_conjur_api_key_source":
		if p.Conjur == nil {
			p.Conjur = map[string]string{}
		}
		p.Conjur[strings.TrimPrefix(key, conjurPrefix)] = value
	case "region":
		p.Region = value
	case "role_session_name":
		p.RoleSessionName = value
	case "external_id":
		p.ExternalID = value
	case "mfa_serial":
		p.MFASerial = value
	case "duration_seconds":
		d, ok := seconds(value)
		if !ok {
			return p.errorf(line, key, "duration_seconds %s in [%s]: must be a positive whole number of seconds", quoteShort(value), printable(p.section))
		}
		p.Duration = d
	case "endpoint_url":
		p.EndpointURL = value
	case "ca_bundle":
		p.CABundle = value
	case "credential_process":
		p.CredentialProcess = value
	case "source_profile":
		p.SourceProfile = value
	case "role_arn":
		p.ClientRoleARN = value
	default:
		if strings.HasPrefix(key, awskeepPrefix) {
			msg := fmt.Sprintf("unknown setting %s in [%s]; known: %s", printable(key), printable(p.section), strings.Join(known, ", "))
			if s := suggest(key); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			return p.errorf(line, key, "%s", msg)
		}
		// Other keys belong to the AWS CLI and SDKs.
	}
	return nil
}

func (p *Profile) errorf(line int, setting, format string, args ...any) *Error {
	return &Error{File: p.File, Line: line, Setting: setting, Msg: fmt.Sprintf(format, args...)}
}

// seconds parses a positive number of seconds written in decimal digits
// only (no sign, no unit), small enough for a time.Duration.
func seconds(s string) (time.Duration, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > int64(1<<63-1)/int64(time.Second) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// suggest returns the known setting closest to key when it is at most two
// edits away, else "".
func suggest(key string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(key, k, bestDist); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit when it
// is limit or more (which also keeps long keys cheap).
func editDistance(a, b string, limit int) int {
	if len(a)-len(b) >= limit || len(b)-len(a) >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// printable makes text from the file safe and short enough for a one-line
// message: control characters become '?', and it is cut at 64 bytes.
func printable(s string) string {
	const max = 64
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if cut {
		s += "..."
	}
	return s
}

// quoteShort quotes a value for a message, cut to 32 bytes. Only values that
// are not secret may be passed (never awskeep_key's).
func quoteShort(s string) string {
	const max = 32
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
