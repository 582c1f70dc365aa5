package plugins

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/awskeep/awskeep/plugins/internal/pb"
)

// ServeProtocol12 serves b as a plugin built against protocol 1.2 does: its gRPC server
// knows only the five RPCs of 1.2 and answers UNIMPLEMENTED, with no ErrorDetail, to
// ListKeys and AuditLog (the generated UnimplementedBackendServer's answer, which is
// grpc-go's for any method a server does not know).
func ServeProtocol12(b Backend) { serveRaw(&v12Server{s: &grpcServer{impl: b}}) }

// ServeMalformedAuditLog serves b, except that AuditLog answers what no Go plugin can send
// but a plugin written in another language could: a 17-bit entry number and a 15-byte digest.
func ServeMalformedAuditLog(b Backend) { serveRaw(&malformedAudit{grpcServer{impl: b}}) }

type malformedAudit struct{ grpcServer }

func (*malformedAudit) AuditLog(context.Context, *pb.AuditLogRequest) (*pb.AuditLogResponse, error) {
	return &pb.AuditLogResponse{Entries: []*pb.AuditLogEntry{{Number: 0x10000, Digest: make([]byte, 15)}}}, nil
}

func serveRaw(s pb.BackendServer) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{1: {pluginName: &rawPlugin{server: s}}},
		GRPCServer:       pluginGRPCServer,
	})
}

type rawPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server pb.BackendServer
}

func (p *rawPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, p.server)
	return nil
}

func (p *rawPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	panic("the host side of a test plugin is the SDK's")
}

// v12Server has the RPCs of protocol 1.2 only.
type v12Server struct {
	pb.UnimplementedBackendServer
	s *grpcServer
}

func (v *v12Server) Info(ctx context.Context, r *pb.InfoRequest) (*pb.InfoResponse, error) {
	return v.s.Info(ctx, r)
}

func (v *v12Server) HMAC(ctx context.Context, r *pb.HMACRequest) (*pb.HMACResponse, error) {
	return v.s.HMAC(ctx, r)
}

func (v *v12Server) ImportKey(ctx context.Context, r *pb.ImportKeyRequest) (*pb.ImportKeyResponse, error) {
	return v.s.ImportKey(ctx, r)
}

func (v *v12Server) DescribeKey(ctx context.Context, r *pb.DescribeKeyRequest) (*pb.DescribeKeyResponse, error) {
	return v.s.DescribeKey(ctx, r)
}

func (v *v12Server) DeleteKey(ctx context.Context, r *pb.DeleteKeyRequest) (*pb.DeleteKeyResponse, error) {
	return v.s.DeleteKey(ctx, r)
}
