package plugins

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/awskeep/awskeep/plugins/internal/pb"
)

// grpcServer adapts a Backend to the generated gRPC service, inside the plugin process.
type grpcServer struct {
	pb.UnimplementedBackendServer
	impl Backend
}

// guard turns a panic in a backend into an ErrDevice error: a panic in a gRPC handler would
// otherwise kill the plugin and every call in flight with it.
func guard(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: backend panicked: %v: %w", op, r, ErrDevice)
	}
}

func (s *grpcServer) Info(ctx context.Context, _ *pb.InfoRequest) (_ *pb.InfoResponse, err error) {
	defer guard("info", &err)
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.InfoResponse{
		Name: info.Name, Version: info.Version, ProtocolVersion: info.ProtocolVersion,
		Schemes: info.Schemes, Capabilities: info.Capabilities, MaxMessageSize: uint32(info.MaxMessageSize),
	}, nil
}

func (s *grpcServer) HMAC(ctx context.Context, req *pb.HMACRequest) (_ *pb.HMACResponse, err error) {
	defer guard("hmac", &err)
	if err := CheckMessage(req.GetMessage()); err != nil {
		return nil, toStatus(err)
	}
	mac, err := s.impl.HMAC(ctx, keyFromProto(req.GetKey()), req.GetMessage())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.HMACResponse{Mac: mac}, nil
}

func (s *grpcServer) ImportKey(ctx context.Context, req *pb.ImportKeyRequest) (_ *pb.ImportKeyResponse, err error) {
	defer guard("import key", &err)
	err = s.impl.ImportKey(ctx, keyFromProto(req.GetKey()), req.GetMaterial(), ImportOptions{Overwrite: req.GetOverwrite()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ImportKeyResponse{}, nil
}

func (s *grpcServer) DescribeKey(ctx context.Context, req *pb.DescribeKeyRequest) (_ *pb.DescribeKeyResponse, err error) {
	defer guard("describe key", &err)
	d, err := s.impl.DescribeKey(ctx, keyFromProto(req.GetKey()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DescribeKeyResponse{
		Exists: d.Exists, Algorithm: d.Algorithm, Extractable: d.Extractable,
		Sensitive: d.Sensitive, Label: d.Label, Attributes: d.Attributes,
	}, nil
}

func (s *grpcServer) DeleteKey(ctx context.Context, req *pb.DeleteKeyRequest) (_ *pb.DeleteKeyResponse, err error) {
	defer guard("delete key", &err)
	if err := s.impl.DeleteKey(ctx, keyFromProto(req.GetKey())); err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeleteKeyResponse{}, nil
}

// grpcClient adapts the generated client to Backend, inside the host.
type grpcClient struct {
	client pb.BackendClient
	// plugin is the plugin's name, set by Launch.
	plugin string
}

// fail turns a call's error into the contract's. A call that ran out of time names the
// plugin: a bare "context deadline exceeded" does not say who did not answer.
func (c *grpcClient) fail(ctx context.Context, err error) error {
	err = fromStatus(ctx, err)
	if c.plugin != "" && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("plugin %s: %w", c.plugin, err)
	}
	return err
}

func (c *grpcClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.client.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, c.fail(ctx, err)
	}
	return Info{
		Name: resp.GetName(), Version: resp.GetVersion(), ProtocolVersion: resp.GetProtocolVersion(),
		Schemes: resp.GetSchemes(), Capabilities: resp.GetCapabilities(), MaxMessageSize: int(resp.GetMaxMessageSize()),
	}, nil
}

func (c *grpcClient) HMAC(ctx context.Context, key Key, message []byte) ([]byte, error) {
	if err := CheckMessage(message); err != nil {
		return nil, err
	}
	resp, err := c.client.HMAC(ctx, &pb.HMACRequest{Key: keyToProto(key), Message: message})
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	return resp.GetMac(), nil
}

func (c *grpcClient) ImportKey(ctx context.Context, key Key, material []byte, opts ImportOptions) error {
	_, err := c.client.ImportKey(ctx, &pb.ImportKeyRequest{Key: keyToProto(key), Material: material, Overwrite: opts.Overwrite})
	return c.fail(ctx, err)
}

func (c *grpcClient) DescribeKey(ctx context.Context, key Key) (KeyDescription, error) {
	resp, err := c.client.DescribeKey(ctx, &pb.DescribeKeyRequest{Key: keyToProto(key)})
	if err != nil {
		return KeyDescription{}, c.fail(ctx, err)
	}
	return KeyDescription{
		Exists: resp.GetExists(), Algorithm: resp.GetAlgorithm(), Extractable: resp.GetExtractable(),
		Sensitive: resp.GetSensitive(), Label: resp.GetLabel(), Attributes: maps.Clone(resp.GetAttributes()),
	}, nil
}

func (c *grpcClient) DeleteKey(ctx context.Context, key Key) error {
	_, err := c.client.DeleteKey(ctx, &pb.DeleteKeyRequest{Key: keyToProto(key)})
	return c.fail(ctx, err)
}

func keyToProto(k Key) *pb.Key { return &pb.Key{Uri: k.URI, Pin: k.PIN} }

func keyFromProto(k *pb.Key) Key { return Key{URI: k.GetUri(), PIN: k.GetPin()} }
