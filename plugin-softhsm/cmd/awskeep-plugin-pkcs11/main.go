// Command awskeep-plugin-pkcs11 is the awskeep plugin for PKCS#11 tokens (SoftHSM2 and any
// vendor module named by a key URI's module-path). The awskeep host starts it; run by hand
// it prints a notice and exits. It logs JSON to stderr only: stdout carries the go-plugin
// handshake.
package main

import (
	"github.com/awskeep/awskeep/plugin-softhsm/pkcs11backend"
	"github.com/awskeep/awskeep/plugins"
)

func main() {
	plugins.Serve(pkcs11backend.New(func(o *pkcs11backend.Options) {
		// A release binary reports its release (version, commit, date: plugins.CurrentBuild);
		// any other build keeps the backend's default, the module version or "devel".
		if b := plugins.CurrentBuild(); b.Release {
			o.Version = b.String()
		}
	}))
}
