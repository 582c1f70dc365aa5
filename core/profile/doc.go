// Package profile reads one profile of the AWS shared config file
// (~/.aws/config, or $AWS_CONFIG_FILE) the way awskeep needs it: awskeep's
// own awskeep_* settings (the key URI, the access key ID, the role, the SAML
// and Conjur settings) and the standard settings awskeep honours (region,
// duration_seconds, role_session_name, external_id, mfa_serial,
// endpoint_url, the sts endpoint of a [services NAME] section, ca_bundle).
//
// The shared config file is the one place for awskeep's settings, next to
// the AWS CLI's: every awskeep command and the credential engine in core
// call Load with --profile, then let flags override what it returns; doctor
// uses Names and Where to explain a profile.
//
// The format is described in the AWS SDKs and Tools Reference Guide,
// "Configuration and credential file settings" (the shared config and
// credentials files, https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html).
// Where the guide is silent, this package reads the file as botocore (the
// AWS CLI) does, because the AWS CLI reads the same file: [profile NAME]
// sections (a bare [NAME] is not a profile there), keys lowercased, no
// inline comments, quotes kept, nested values only under [services NAME].
//
// Values come from gopkg.in/ini.v1; a small line locator adds line numbers
// to messages ("~/.aws/config:12: unknown setting awskeep_kye ...").
// Messages never repeat the value of awskeep_key, which may carry a
// pin-value.
package profile
