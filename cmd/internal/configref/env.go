package configref

// EnvVar describes one environment variable awskeep reads.
type EnvVar struct {
	// Name is the variable's name.
	Name string
	// Text says who reads it and what for, in Markdown.
	Text string
}

// Env lists the environment variables awskeep's programs (awskeep, awskeep-full, the
// plugins, awskeep-keyring) read, grouped as the reference prints them. A test scans the
// product's source for AWSKEEP_* names and fails on one that is neither here nor in
// internalEnv, so a new variable cannot ship undocumented.
var Env = []EnvVar{
	// Where settings come from.
	{"AWS_CONFIG_FILE", "The shared config file holding the profiles (default `~/.aws/config`)."},
	{"AWS_SHARED_CREDENTIALS_FILE", "The credentials file `awskeep update` writes (default `~/.aws/credentials`)."},
	{"AWS_PROFILE", "Not read as a profile for awskeep's own commands (pass `--profile`); removed from the environment of `awskeep exec`'s child, and part of the cache route key of the fast path."},
	{"AWS_DEFAULT_PROFILE", "As `AWS_PROFILE`."},
	{"AWS_REGION", "The STS region when neither `--region` nor the profile's `region` gives one."},
	{"AWS_DEFAULT_REGION", "The STS region after `AWS_REGION`; else us-east-1."},
	{"AWS_ENDPOINT_URL_STS", "The STS endpoint when neither `--endpoint-url`, the profile's `[services]` `sts` endpoint nor `endpoint_url` gives one."},
	{"AWS_ENDPOINT_URL", "The endpoint after `AWS_ENDPOINT_URL_STS` (leave it unset against real AWS)."},
	{"AWS_CA_BUNDLE", "A PEM file of extra trusted CAs when neither `--ca-bundle` nor `ca_bundle` gives one."},
	{"AWS_SECRET_ACCESS_KEY", "Read by `awskeep import` only: the secret to import (else one line of standard input, else a no-echo prompt). Never passed to children or plugins."},
	// Secrets and prompts.
	{"AWSKEEP_PIN", "The device PIN or password when the key URI has neither `pin-source` nor `pin-value`; else a prompt on the terminal. Never passed to children or plugins."},
	{"AWSKEEP_PROFILE", "Set by `awskeep exec` in its child (the profile's name); awskeep refuses to `exec` inside such a child unless `--allow-nested` is given."},
	// Logging.
	{"AWSKEEP_LOG_LEVEL", "The log level on stderr when `--log-level` is not given: `debug`, `info`, `warn` (default), `error`."},
	// Plugins.
	{"AWSKEEP_PLUGIN_DIR", "A directory searched for `awskeep-plugin-NAME` after `--plugin-dir` and before the directory of the awskeep executable, `$XDG_DATA_HOME/awskeep/plugins`, `/usr/local/lib/awskeep/plugins` and `/usr/lib/awskeep/plugins`."},
	{"AWSKEEP_PLUGIN_ENV", "Further variables, separated by commas or spaces, that plugins may see (for a vendor module, e.g. `OPENSC_CONF`). Plugins otherwise see only `PATH`, `HOME`, `USER`, `LOGNAME`, `TMPDIR`, `LANG`, `TZ`, `LC_*`, `SOFTHSM2_CONF`, `TCTI`, `TSS2_*`, `TPM2TOOLS_*`, `YUBIHSM_*`, `VAULT_ADDR`, `VAULT_CACERT`, `VAULT_NAMESPACE`; never the PIN or AWS credentials."},
	{"SOFTHSM2_CONF", "SoftHSM2's configuration file, passed to the PKCS#11 plugin."},
	{"VAULT_ADDR", "The Vault address for `vault:` keys without `addr=` (the Vault plugin)."},
	{"VAULT_CACERT", "The CA of Vault's certificate (the Vault plugin)."},
	{"VAULT_NAMESPACE", "The Vault namespace (the Vault plugin)."},
	{"VAULT_TOKEN", "The Vault token, when listed in `AWSKEEP_PLUGIN_ENV`; it is the `vault:` key's PIN, so `pin-source` is the better place."},
	// Directories.
	{"HOME", "Home of `~/.aws/config`, the cache and the keyring defaults."},
	{"XDG_CACHE_HOME", "The credential cache is `$XDG_CACHE_HOME/awskeep` (default `~/.cache/awskeep`)."},
	{"XDG_CONFIG_HOME", "awskeep's own configuration directory (`$XDG_CONFIG_HOME/awskeep`, default `~/.config/awskeep`): plugin pins."},
	{"XDG_DATA_HOME", "`$XDG_DATA_HOME/awskeep/plugins` is on the plugin search path (default `~/.local/share`)."},
	// SAML federation.
	{"CONJUR_APPLIANCE_URL", "Conjur's URL when `awskeep_conjur_url` is not set."},
	{"CONJUR_ACCOUNT", "The Conjur account when `awskeep_conjur_account` is not set."},
	{"CONJUR_AUTHN_LOGIN", "The Conjur login when `awskeep_conjur_login` is not set."},
	{"CONJUR_AUTHN_API_KEY", "The Conjur API key itself when `awskeep_conjur_api_key_source` is not set."},
	{"CONJUR_CERT_FILE", "Conjur's CA file when `awskeep_conjur_cert_file` is not set."},
	{"CONJUR_SSL_CERTIFICATE", "Conjur's CA certificate in PEM, when no CA file is given."},
	{"KRB5_CONFIG", "The krb5.conf of `awskeep_saml_provider = kerberos` (default `/etc/krb5.conf`)."},
	{"KRB5CCNAME", "The Kerberos ticket cache `kinit` filled, for `kerberos`."},
	{"KRB5_CLIENT_KTNAME", "A client keytab (MIT's variable) for `kerberos`: when set, awskeep logs in from it as `awskeep_saml_username` (default: its only principal) instead of using the ticket cache."},
	// The keyring helper, awskeep-keyring.
	{"AWSKEEP_KEYRING_BACKEND", "`awskeep-keyring`: the keyring backends to try, comma-separated (`secret-service`, `keyctl`, `pass`, `file`), first available wins."},
	{"AWSKEEP_KEYRING_SERVICE", "`awskeep-keyring`: the service name (keyctl keyring name, Secret Service label prefix)."},
	{"AWSKEEP_KEYRING_COLLECTION", "`awskeep-keyring`: the Secret Service collection."},
	{"AWSKEEP_KEYRING_KEYCTL_SCOPE", "`awskeep-keyring`: the kernel keyring holding awskeep's keyring."},
	{"AWSKEEP_KEYRING_PASS_DIR", "`awskeep-keyring`: the pass store's directory (default `$PASSWORD_STORE_DIR`, then `~/.password-store`)."},
	{"AWSKEEP_KEYRING_PASS_CMD", "`awskeep-keyring`: the pass program."},
	{"AWSKEEP_KEYRING_PASS_PREFIX", "`awskeep-keyring`: the folder of the pass store awskeep's items go to."},
	{"AWSKEEP_KEYRING_FILE_DIR", "`awskeep-keyring`: the file backend's directory, an absolute path."},
	{"AWSKEEP_KEYRING_PASSWORD", "`awskeep-keyring` run by hand: the file backend's password (awskeep itself answers through a pipe and never sets it)."},
	{"PASSWORD_STORE_DIR", "The pass store, as for `pass`."},
	// The simulator.
	{"AWSKEEP_YUBIHSM_SIM_PASSWORD", "`awskeep-yubihsm-sim`: the password of authentication key 1 (default `password`, as a new YubiHSM 2)."},
}

// internalEnv are AWSKEEP_* variables that awskeep's programs set for each other or that
// only tests read; the reference does not list them, but the source scan accepts them.
var internalEnv = map[string]string{
	"AWSKEEP_PLUGIN_COOKIE":    "go-plugin's handshake cookie, set by the host for its plugins",
	"AWSKEEP_ROUTE_LOCK":       "the front passes its held lock to awskeep-full",
	"AWSKEEP_KEYRING_PROTOCOL": "awskeep tells awskeep-keyring the protocol version",
	"AWSKEEP_KEYRING_ASK_FDS":  "awskeep passes awskeep-keyring its password pipe",
	"AWSKEEP_PLUGIN_DEPTH":     "the host tells a plugin how deep in awskeep-started plugins it is, against loops",
}
