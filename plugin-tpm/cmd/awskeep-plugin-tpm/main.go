// Command awskeep-plugin-tpm serves awskeep's TPM 2.0 backend (package tpm) for tpm: key
// URIs. The awskeep host starts it; run by hand it only prints a notice.
package main

import (
	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugins"
)

func main() {
	plugins.Serve(tpm.New())
}
