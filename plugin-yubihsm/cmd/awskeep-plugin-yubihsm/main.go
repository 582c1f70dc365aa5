// Command awskeep-plugin-yubihsm is the awskeep plugin for the YubiHSM 2 (key URIs
// yubihsm:...). The awskeep host starts it; run by hand it explains that and exits.
package main

import (
	"github.com/awskeep/awskeep/plugin-yubihsm/backend"
	"github.com/awskeep/awskeep/plugins"
)

func main() { plugins.Serve(backend.New()) }
