package plugins

import "net"

// PluginAddr is the address of p's gRPC socket, for the channel tests.
func PluginAddr(p *Plugin) net.Addr { return p.client.ReattachConfig().Addr }
