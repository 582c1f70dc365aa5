package sinks

import (
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// ProfileEnv marks a process started by awskeep exec; its value is the profile. awskeep
// refuses to exec inside such a process unless asked, since the inner awskeep would read
// the outer one's temporary credentials as its own inputs.
const ProfileEnv = "AWSKEEP_PROFILE"

// removed are the variables a child must not inherit from awskeep: secrets awskeep itself
// reads (the PIN, an AWS secret for import), credentials and profile selectors that would
// compete with the ones given to the child.
var removed = map[string]bool{
	"AWSKEEP_PIN":                            true,
	"AWS_ACCESS_KEY_ID":                      true,
	"AWS_SECRET_ACCESS_KEY":                  true,
	"AWS_SESSION_TOKEN":                      true,
	"AWS_SECURITY_TOKEN":                     true,
	"AWS_CREDENTIAL_EXPIRATION":              true,
	"AWS_PROFILE":                            true,
	"AWS_DEFAULT_PROFILE":                    true,
	"AWS_VAULT":                              true,
	"AWS_CONTAINER_CREDENTIALS_FULL_URI":     true,
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": true,
	"AWS_CONTAINER_AUTHORIZATION_TOKEN":      true,
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": true,
}

// CleanEnv returns environ without the variables a child of awskeep must not see (see
// removed). Entries that are not NAME=VALUE are dropped too.
func CleanEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || removed[name] {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Variable is one environment variable.
type Variable struct{ Name, Value string }

// Variables are the standard AWS SDK variables for c in region, in a fixed order:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION
// when set, AWS_REGION and AWS_DEFAULT_REGION when region is set.
func Variables(c creds.Credentials, region string) []Variable {
	vars := []Variable{{"AWS_ACCESS_KEY_ID", c.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey}}
	if c.SessionToken != "" {
		vars = append(vars, Variable{"AWS_SESSION_TOKEN", c.SessionToken})
	}
	if !c.Expiration.IsZero() {
		vars = append(vars, Variable{"AWS_CREDENTIAL_EXPIRATION", c.Expiration.UTC().Format(time.RFC3339)})
	}
	if region != "" {
		vars = append(vars, Variable{"AWS_REGION", region}, Variable{"AWS_DEFAULT_REGION", region})
	}
	return vars
}

// lookup returns the value of name in environ.
func lookup(environ []string, name string) (string, bool) {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}
