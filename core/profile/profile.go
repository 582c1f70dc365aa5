package profile

import (
	"strconv"
	"strings"
	"time"
)

// Profile is one profile of the shared config file as awskeep reads it.
// Values are trimmed; a setting with an empty value counts as absent.
type Profile struct {
	Name string // the profile name as given
	File string // the config file's path

	// awskeep's own settings (keys starting awskeep_)
	Source      string            // awskeep_source: "device" (the default when absent) or "saml"
	Key         string            // awskeep_key: key URI
	AccessKeyID string            // awskeep_access_key_id
	RoleARN     string            // awskeep_role_arn
	MFAProcess  string            // awskeep_mfa_process
	SAML        map[string]string // awskeep_saml_* settings keyed without the prefix: url, provider, username, password_source, role_arn; nil when there are none
	Conjur      map[string]string // awskeep_conjur_* settings keyed without the prefix: url, account, login, cert_file, api_key_source; nil when there are none

	// standard settings read from the same profile
	Region, RoleSessionName, ExternalID, MFASerial string
	Duration                                       time.Duration // duration_seconds; 0 when unset
	EndpointURL                                    string        // endpoint_url
	STSEndpointURL                                 string        // endpoint_url of the sts entry of the [services NAME] section the profile's `services` names
	CABundle                                       string        // ca_bundle
	CredentialProcess                              string        // credential_process (read, never run)
	SourceProfile, ClientRoleARN                   string        // source_profile and role_arn, reported so callers can explain chains

	section string         // the ini section read, e.g. "profile prod", for messages
	header  int            // line of the section's header; 0 when unknown
	lines   map[string]int // every setting present (non-empty) -> its line; 0 when unknown
}

// Where returns "FILE:LINE" of setting in the profile, or "FILE:LINE" of the
// profile's section header when the setting is absent, or FILE when no line
// is known. Setting names are case-insensitive, as in the file.
func (p *Profile) Where(setting string) string {
	if p == nil {
		return ""
	}
	if n := p.lines[strings.ToLower(setting)]; n > 0 {
		return p.File + ":" + strconv.Itoa(n)
	}
	if p.header > 0 {
		return p.File + ":" + strconv.Itoa(p.header)
	}
	return p.File
}

// Has reports whether setting is present in the profile with a non-empty
// value, whether or not awskeep reads it (so "role_arn" or
// "credential_source" can be asked about too).
func (p *Profile) Has(setting string) bool {
	if p == nil {
		return false
	}
	_, ok := p.lines[strings.ToLower(setting)]
	return ok
}
