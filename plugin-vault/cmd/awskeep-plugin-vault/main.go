// Command awskeep-plugin-vault is the awskeep plugin for HashiCorp Vault's transit secrets
// engine (key URIs vault:...). The awskeep host starts it; run by hand it explains that and
// exits.
package main

import (
	"github.com/awskeep/awskeep/plugin-vault/backend"
	"github.com/awskeep/awskeep/plugins"
)

func main() { plugins.Serve(backend.New()) }
