// Command nopinplugin is the example backend serving as a backend without PINs: its Info
// drops plugins.CapabilityPIN, as the Tink plugin's does. The devicekey tests build it as
// awskeep-plugin-example to check that the host then resolves no PIN.
package main

import (
	"context"
	"slices"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/example"
)

type noPIN struct{ *example.Backend }

func (b noPIN) Info(ctx context.Context) (plugins.Info, error) {
	info, err := b.Backend.Info(ctx)
	info.Capabilities = slices.DeleteFunc(slices.Clone(info.Capabilities), func(c string) bool { return c == plugins.CapabilityPIN })
	return info, err
}

func main() {
	plugins.Serve(noPIN{example.New()})
}
