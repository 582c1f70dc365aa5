package plugins

import (
	"slices"
	"strings"
)

// PluginEnvVar names the host variable in which an operator lists further variables that
// plugins may see, separated by commas or spaces: what a vendor's module reads from the
// environment beyond the variables every plugin gets. For example
//
//	AWSKEEP_PLUGIN_ENV="OPENSC_CONF P11_KIT_SERVER_ADDRESS"
//
// The variable itself is not passed on, and listing a name in neverPassedEnv does not pass it.
const PluginEnvVar = "AWSKEEP_PLUGIN_ENV"

// passedEnv and passedEnvPrefixes are the host variables every plugin sees: what a process
// and the C libraries under it need to run (search path, home and user, temporary
// directory, locale, time zone) and the configuration of the libraries awskeep's own
// plugins load: SoftHSM2 (SOFTHSM2_CONF), tpm2-tss and tpm2-tools (TSS2_*, TPM2TOOLS_*,
// TCTI), the YubiHSM tools (YUBIHSM_*) and Vault's client settings that are not secret
// (VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE; never VAULT_TOKEN, which is the vault: key's
// PIN). Anything else reaches a plugin only when listed in $AWSKEEP_PLUGIN_ENV or passed
// in LaunchOptions.Env.
var (
	passedEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "LANG", "TZ", "SOFTHSM2_CONF", "TCTI",
		"VAULT_ADDR", "VAULT_CACERT", "VAULT_NAMESPACE"}
	passedEnvPrefixes = []string{"LC_", "TSS2_", "TPM2TOOLS_", "YUBIHSM_"}
)

// neverPassedEnv never reach a plugin, however they are asked for: the PIN and the AWS
// credentials a host may hold. A plugin gets a PIN in the request that needs it, and has no
// use for AWS credentials.
var neverPassedEnv = []string{
	"AWSKEEP_PIN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
}

// pluginEnv returns a plugin's environment: the entries of host (KEY=VALUE, as
// os.Environ) that passedEnv, passedEnvPrefixes or the host's $AWSKEEP_PLUGIN_ENV allow,
// then explicit, minus neverPassedEnv throughout. go-plugin adds its own variables (the
// magic cookie, PLUGIN_*) after these.
func pluginEnv(host, explicit []string) []string {
	var listed []string
	for _, kv := range host {
		if v, ok := strings.CutPrefix(kv, PluginEnvVar+"="); ok {
			listed = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
		}
	}
	var env []string
	for _, kv := range host {
		k, _, ok := strings.Cut(kv, "=")
		if ok && !slices.Contains(neverPassedEnv, k) && (allowedEnv(k) || slices.Contains(listed, k)) {
			env = append(env, kv)
		}
	}
	for _, kv := range explicit {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(neverPassedEnv, k) {
			env = append(env, kv)
		}
	}
	return env
}

func allowedEnv(name string) bool {
	if slices.Contains(passedEnv, name) {
		return true
	}
	for _, p := range passedEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
