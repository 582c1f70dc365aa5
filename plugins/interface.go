package plugins

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/awskeep/awskeep/plugins/internal/pb"
)

// Handshake is the go-plugin handshake between the host and every backend plugin. The magic
// cookie is not a secret: it only stops a plugin binary run by hand from waiting for a host.
// ProtocolVersion is the contract's major version; go-plugin negotiates it.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "AWSKEEP_PLUGIN_COOKIE",
	MagicCookieValue: "7b0c2f0e5a9d4e3c8d1f6a2b9e4c7d05a1f3b8e6c2d9a4f7",
}

// pluginName is the single plugin each awskeep plugin binary serves.
const pluginName = "backend"

// versionedPlugins lists the protocol versions this SDK speaks, for negotiation.
func versionedPlugins(impl Backend) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginName: &grpcPlugin{impl: impl}},
	}
}

// grpcPlugin is go-plugin's glue for the Backend service.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Backend
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, &grpcServer{impl: p.impl})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{client: pb.NewBackendClient(c)}, nil
}
