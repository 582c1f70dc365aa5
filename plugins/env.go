package plugins

import (
	"slices"
	"strconv"
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

// DepthEnvVar is the variable in which the host tells each plugin how deeply it is nested:
// the host sets it in every plugin's environment to one more than its own value (1 when
// the host has none), whatever the host's environment or $AWSKEEP_PLUGIN_ENV say. A plugin
// that calls AWS (the Tink plugin's KMS calls) may run a credential_process, and that may be
// awskeep again, started with the plugin's environment: that awskeep reads the variable
// (PluginDepth) and, deeper than MaxDepth, refuses at once, before it takes a cache lock
// that its caller may hold or starts a plugin. So a profile whose credentials come from
// awskeep with the very key that needs them ends with one clear error instead of waiting
// on itself or starting plugins forever.
const DepthEnvVar = "AWSKEEP_PLUGIN_DEPTH"

// MaxDepth is the deepest an awskeep host may run: 0, at the top. An awskeep started
// (through a credential_process) by a plugin is refused, whatever its key: the awskeep above
// it holds the cache lock of the invocation it is serving, which the one below would wait
// for when both serve the same profile, and telling a loop from a harmless nesting would
// need the whole chain. A plugin's AWS credentials come from elsewhere (a profile of its
// own, an instance or container role).
const MaxDepth = 0

// PluginDepth is the nesting depth of the process whose environment getenv reads: the
// value of DepthEnvVar, 0 when unset. A value that is not a small non-negative number
// counts as MaxDepth+1: it was not written by a host, and refusing is the safe answer.
func PluginDepth(getenv func(string) string) int {
	v := getenv(DepthEnvVar)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1000 {
		return MaxDepth + 1
	}
	return n
}

// passedEnv and passedEnvPrefixes are the host variables every plugin sees: what a process
// and the C libraries under it need to run (search path, home and user, temporary
// directory, locale, time zone) and the configuration of the libraries awskeep's own
// plugins load: SoftHSM2 (SOFTHSM2_CONF), tpm2-tss and tpm2-tools (TSS2_*, TPM2TOOLS_*,
// TCTI), the YubiHSM tools (YUBIHSM_*) and Vault's client settings that are not secret
// (VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE; never VAULT_TOKEN, which is the vault: key's
// PIN). Anything else reaches a plugin only when listed in $AWSKEEP_PLUGIN_ENV or passed
// in LaunchOptions.Env.
//
// Of the AWS SDK's variables (for a plugin that calls AWS, as the Tink plugin calls KMS)
// only settings that neither hold a secret nor choose the plugin's AWS identity pass:
// AWS_REGION, AWS_DEFAULT_REGION, AWS_CA_BUNDLE, AWS_EC2_METADATA_DISABLED (it can only turn
// a source off), AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT and the service-specific
// endpoints AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_KMS). Not passed unless listed:
//   - the global AWS_ENDPOINT_URL, which a shell often sets for its clients alone (the
//     environment `awskeep proxy` prints points it at the proxy, which a plugin cannot use);
//   - what chooses where the plugin's credentials come from: AWS_CONFIG_FILE,
//     AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE, the web identity variables, and the
//     container and instance metadata endpoints (AWS_CONTAINER_CREDENTIALS_*_URI,
//     AWS_EC2_METADATA_SERVICE_ENDPOINT). The host's own values usually name awskeep's
//     profiles (a client running credential_process for profile P has AWS_PROFILE=P) or
//     awskeep's own endpoints (`awskeep serve`, `exec --server`): a plugin whose KMS
//     credentials came from there would need itself. The plugin gets its identity from a
//     profile= in its key URI, ~/.aws (HOME passes), instance metadata, or what the
//     operator lists.
var (
	passedEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "LANG", "TZ", "SOFTHSM2_CONF", "TCTI",
		"VAULT_ADDR", "VAULT_CACERT", "VAULT_NAMESPACE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED",
		"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"}
	passedEnvPrefixes = []string{"LC_", "TSS2_", "TPM2TOOLS_", "YUBIHSM_", "AWS_ENDPOINT_URL_"}
)

// neverPassedEnv never reach a plugin, however they are asked for: the PIN and the AWS
// credentials a host may hold. A plugin gets a PIN in the request that needs it. The AWS
// keys in the host's environment are secrets the contract keeps out of every child, and
// they are rarely the plugin's to use: `awskeep import` reads the very secret it imports
// from AWS_SECRET_ACCESS_KEY, and a shell's AWS_* keys are often credentials awskeep itself
// handed out. A plugin that calls AWS finds its own credentials (see passedEnv).
var neverPassedEnv = []string{
	"AWSKEEP_PIN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
}

// pluginEnv returns a plugin's environment: the entries of host (KEY=VALUE, as
// os.Environ) that passedEnv, passedEnvPrefixes or the host's $AWSKEEP_PLUGIN_ENV allow,
// then explicit, minus neverPassedEnv throughout, then DepthEnvVar one deeper than the
// host's (no other value of it passes). go-plugin adds its own variables (the magic cookie,
// PLUGIN_*) after these.
func pluginEnv(host, explicit []string) []string {
	var listed []string
	hostDepth := ""
	for _, kv := range host {
		if v, ok := strings.CutPrefix(kv, PluginEnvVar+"="); ok {
			listed = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
		}
		if v, ok := strings.CutPrefix(kv, DepthEnvVar+"="); ok {
			hostDepth = v
		}
	}
	var env []string
	for _, kv := range host {
		k, _, ok := strings.Cut(kv, "=")
		if ok && k != DepthEnvVar && !slices.Contains(neverPassedEnv, k) && (allowedEnv(k) || slices.Contains(listed, k)) {
			env = append(env, kv)
		}
	}
	for _, kv := range explicit {
		if k, _, _ := strings.Cut(kv, "="); k != DepthEnvVar && !slices.Contains(neverPassedEnv, k) {
			env = append(env, kv)
		}
	}
	depth := PluginDepth(func(string) string { return hostDepth })
	return append(env, DepthEnvVar+"="+strconv.Itoa(depth+1))
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
