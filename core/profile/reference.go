package profile

// Doc describes one setting of a profile for the configuration reference
// (docs/config-reference.md, written by `make docs`).
type Doc struct {
	// Key is the setting's name as written in the file.
	Key string
	// Values says what the value may be, in a few words ("key URI", "seconds").
	Values string
	// Text says what the setting does, in one or two sentences of Markdown.
	Text string
}

// Reference describes every awskeep_* setting of KnownSettings, in the same
// order. A test checks that the two lists agree, so a new setting cannot ship
// without its entry in the reference.
var Reference = []Doc{
	{"awskeep_access_key_id", "access key id (AKIA...)",
		"The IAM user's long-term access key id whose secret the device holds. Not secret; it names the key in every STS request. Flag: `--access-key-id`."},
	{"awskeep_conjur_account", "Conjur account",
		"The Conjur account, for `awskeep_saml_password_source = conjur:VARIABLE`. Else `$CONJUR_ACCOUNT`."},
	{"awskeep_conjur_api_key_source", "`keyring:NAME` or `file:PATH`",
		"Where the Conjur login's API key is: a keyring item (`awskeep-keyring set NAME` stores it) or a file only you may read (0600). `conjur:` and `prompt` are refused. Else `$CONJUR_AUTHN_API_KEY`."},
	{"awskeep_conjur_cert_file", "absolute path",
		"A PEM file of the CA that signed Conjur's certificate. Else `$CONJUR_CERT_FILE`."},
	{"awskeep_conjur_login", "Conjur login (`host/...` or a user)",
		"The Conjur identity that logs in. Else `$CONJUR_AUTHN_LOGIN`."},
	{"awskeep_conjur_url", "https URL",
		"Conjur's appliance URL. Else `$CONJUR_APPLIANCE_URL`."},
	{"awskeep_key", "key URI (`pkcs11:`, `tpm:`, `yubihsm:`, `vault:`, `tink:`)",
		"The device key holding `\"AWS4\"+secret`; the URI's scheme names the plugin. The PIN comes from the URI's `pin-source` (a 0600 file), `pin-value` (discouraged), `$AWSKEEP_PIN` or a prompt on the terminal. Flag: `--key`."},
	{"awskeep_mfa_process", "command line",
		"A command that prints the current MFA code on stdout, run when `mfa_serial` is set and no `--mfa-code` is given; else awskeep prompts on the terminal."},
	{"awskeep_role_arn", "IAM role ARN",
		"Makes awskeep call STS AssumeRole with this role; without it, GetSessionToken. Not `role_arn`, which the AWS CLI would treat as its own assume-role profile. Flag: `--role-arn`."},
	{"awskeep_saml_password_source", "`conjur:VARIABLE`, `keyring:NAME`, `file:PATH` or `prompt`",
		"Where the identity provider's password comes from (`awskeep saml store-password` fills a keyring item). Not used by `kerberos`."},
	{"awskeep_saml_provider", "`okta`, `form` or `kerberos`",
		"How awskeep logs in at the identity provider: Okta's authn API, an HTML login form (ADFS, Shibboleth), or SPNEGO with the ticket from `kinit`."},
	{"awskeep_saml_role_arn", "IAM role ARN",
		"The role to take among those of the SAML assertion; without it, the only role, or a choice on the terminal."},
	{"awskeep_saml_url", "https URL",
		"The identity provider's URL of the AWS app (the IdP-initiated sign-on URL)."},
	{"awskeep_saml_username", "user name",
		"The user who logs in at the identity provider; `kerberos` takes the ticket's, or, with `$KRB5_CLIENT_KTNAME`, the keytab's principal it names."},
	{"awskeep_source", "`device` (default) or `saml`",
		"Where credentials come from: a device key (`awskeep_key`) and STS, or a SAML login and AssumeRoleWithSAML."},
}

// StandardReference describes the standard AWS settings awskeep reads from
// the same profile (they mean for awskeep what they mean for the AWS CLI).
var StandardReference = []Doc{
	{"region", "region name", "The STS region (else `$AWS_REGION`, `$AWS_DEFAULT_REGION`, us-east-1). Flag: `--region`."},
	{"duration_seconds", "whole seconds", "Lifetime of the temporary credentials (default 3600). Flag: `--duration` (`1h` or `3600`)."},
	{"role_session_name", "session name", "The AssumeRole session name (default `awskeep-USER`). Flag: `--role-session-name`."},
	{"external_id", "string", "The AssumeRole external id. Flag: `--external-id`."},
	{"mfa_serial", "MFA device ARN or serial", "Adds MFA to the STS call; the code comes from `--mfa-code`, `awskeep_mfa_process` or a prompt. Flag: `--mfa-serial`."},
	{"endpoint_url", "URL", "The endpoint for STS (and every service of `awskeep curl`); `[services NAME]`'s `sts` sub-setting `endpoint_url` wins for STS. Else `$AWS_ENDPOINT_URL_STS`, `$AWS_ENDPOINT_URL`. Flag: `--endpoint-url`."},
	{"ca_bundle", "path to a PEM file", "Extra CAs trusted for STS and signed requests. Else `$AWS_CA_BUNDLE`. Flag: `--ca-bundle`."},
	{"credential_process", "command line", "Read, never run, by awskeep: a profile whose `credential_process` runs awskeep for itself is read without recursion."},
	{"source_profile", "profile name", "Read only to explain chains (`awskeep doctor`): the AWS CLI chains its own `role_arn` on top of an awskeep profile."},
	{"role_arn", "IAM role ARN", "Read only to explain chains; awskeep's own role is `awskeep_role_arn`."},
}
