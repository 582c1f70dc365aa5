package sinks_test

import (
	"slices"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sinks"
)

// removedVars are the variables CleanEnv must drop: awskeep's own secret, credentials and
// profile selectors that would compete with the child's, and the container credential
// endpoint an SDK would prefer over nothing else.
var removedVars = []string{
	"AWSKEEP_PIN",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_VAULT",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

// keptVars are settings a child needs and CleanEnv must keep, including names that merely
// start like a removed one.
var keptVars = []string{
	"PATH=/usr/bin:/bin", "HOME=/home/u",
	"AWS_CONFIG_FILE=/home/u/.aws/config", "AWS_SHARED_CREDENTIALS_FILE=/home/u/.aws/credentials",
	"AWS_ENDPOINT_URL=https://all.example", "AWS_ENDPOINT_URL_STS=https://sts.example",
	"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1", "AWS_CA_BUNDLE=/etc/ca.pem",
	"AWSKEEP_PROFILE=outer", "AWSKEEP_PLUGIN_DIR=/opt/plugins",
	"AWSKEEP_PIN_HINT=x", "AWS_PROFILE_NAME=x", "XAWS_PROFILE=x", "aws_profile=lower",
	"EQUALS=a=b=c", "EMPTY=",
}

func TestCleanEnv(t *testing.T) {
	var removedEntries []string
	for _, name := range removedVars {
		removedEntries = append(removedEntries, name+"=value-of-"+name)
	}
	// Interleave removed and kept entries, so the test sees that order is kept.
	var mixed []string
	for i := 0; i < max(len(removedEntries), len(keptVars)); i++ {
		if i < len(removedEntries) {
			mixed = append(mixed, removedEntries[i])
		}
		if i < len(keptVars) {
			mixed = append(mixed, keptVars[i])
		}
	}

	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{name: "nil", environ: nil, want: []string{}},
		{name: "nothing to remove", environ: keptVars, want: keptVars},
		{name: "only removed", environ: removedEntries, want: []string{}},
		{name: "mixed keeps order", environ: mixed, want: keptVars},
		{name: "empty values removed too", environ: []string{"AWSKEEP_PIN=", "A=1", "AWS_PROFILE="}, want: []string{"A=1"}},
		{name: "repeated names", environ: []string{"AWS_PROFILE=a", "B=1", "AWS_PROFILE=b", "B=2"}, want: []string{"B=1", "B=2"}},
		{name: "entries without = dropped", environ: []string{"NOEQUALS", "A=1", "AWSKEEP_PIN"}, want: []string{"A=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.environ)
			got := sinks.CleanEnv(in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("CleanEnv =\n %q\nwant\n %q", got, tt.want)
			}
			if !slices.Equal(in, tt.environ) {
				t.Errorf("CleanEnv changed its input: %q", in)
			}
		})
	}
	for _, name := range removedVars {
		t.Run("removes "+name, func(t *testing.T) {
			if got := sinks.CleanEnv([]string{"A=1", name + "=x", "B=2"}); !slices.Equal(got, []string{"A=1", "B=2"}) {
				t.Errorf("CleanEnv = %q", got)
			}
		})
	}
}

func TestVariables(t *testing.T) {
	exp := time.Date(2026, 11, 30, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name   string
		c      creds.Credentials
		region string
		want   []sinks.Variable
	}{
		{name: "temporary with region", c: creds.Credentials{AccessKeyID: "ASIA1", SecretAccessKey: "s", SessionToken: "t", Expiration: exp},
			region: "eu-west-1", want: []sinks.Variable{
				{"AWS_ACCESS_KEY_ID", "ASIA1"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", "t"},
				{"AWS_CREDENTIAL_EXPIRATION", "2026-11-30T11:00:00Z"}, {"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "eu-west-1"},
			}},
		{name: "long-term without region", c: creds.Credentials{AccessKeyID: "AKIA1", SecretAccessKey: "s"},
			want: []sinks.Variable{{"AWS_ACCESS_KEY_ID", "AKIA1"}, {"AWS_SECRET_ACCESS_KEY", "s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sinks.Variables(tt.c, tt.region); !slices.Equal(got, tt.want) {
				t.Errorf("Variables = %q, want %q", got, tt.want)
			}
		})
	}
}
