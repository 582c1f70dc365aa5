package devicekey

import (
	"errors"
	"fmt"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/plugins"
)

// ErrNestedTooDeep is what CheckPluginDepth returns: this awskeep was started, directly or
// not, by an awskeep plugin.
var ErrNestedTooDeep = errors.New("awskeep started by an awskeep plugin (through the credential_process of the plugin's AWS profile) may not open a key")

// CheckPluginDepth refuses to open a key when the process runs under plugins nested more
// than plugins.MaxDepth deep ($AWSKEEP_PLUGIN_DEPTH, which the host sets in every plugin's
// environment, read with getenv). That happens when a plugin that calls AWS (the Tink
// plugin, for KMS) gets its credentials from a credential_process that runs awskeep: with a
// key of that same plugin, each awskeep would start the plugin, whose credential chain would
// run awskeep again, without end. The awskeep front refuses such a run before it looks at
// the cache; this check covers the full program and the Go API. The error is a
// configuration error with the fix.
func CheckPluginDepth(getenv func(string) string) error {
	depth := plugins.PluginDepth(getenv)
	if depth <= plugins.MaxDepth {
		return nil
	}
	return creds.Wrap(creds.ClassConfig, "", fmt.Errorf("%w ($%s=%d): a plugin's AWS credentials come from awskeep with a key that needs that plugin again; "+
		"give the plugin credentials of its own (profile= in its key URI naming a profile without awskeep, or an instance role)",
		ErrNestedTooDeep, plugins.DepthEnvVar, depth))
}
