// Command awskeep-plugin-tink is the awskeep plugin for Tink keysets wrapped by AWS KMS (key
// URIs tink:...). The awskeep host starts it; run by hand it explains that and exits.
package main

import (
	"github.com/awskeep/awskeep/plugin-tink/backend"
	"github.com/awskeep/awskeep/plugins"
)

func main() { plugins.Serve(backend.New()) }
