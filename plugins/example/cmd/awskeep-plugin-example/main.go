// Command awskeep-plugin-example serves the in-memory example backend. It is the template
// for a plugin main: nothing but a call to plugins.Serve.
package main

import (
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/example"
)

func main() {
	plugins.Serve(example.New())
}
