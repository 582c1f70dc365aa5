package plugins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

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

// ListKeys answers ErrUnsupported for a backend that does not implement KeyLister.
func (s *grpcServer) ListKeys(ctx context.Context, req *pb.ListKeysRequest) (_ *pb.ListKeysResponse, err error) {
	defer guard("list keys", &err)
	entries, err := ListKeys(ctx, s.impl, keyFromProto(req.GetKey()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.ListKeysResponse{Keys: make([]*pb.KeyEntry, 0, len(entries))}
	for _, e := range entries {
		var created int64
		if !e.Created.IsZero() {
			created = e.Created.Unix()
		}
		resp.Keys = append(resp.Keys, &pb.KeyEntry{Uri: e.URI, Label: e.Label, CreatedUnix: created, Attributes: e.Attributes})
	}
	return resp, nil
}

// AuditLog answers ErrUnsupported for a backend that does not implement AuditLogReader.
func (s *grpcServer) AuditLog(ctx context.Context, req *pb.AuditLogRequest) (_ *pb.AuditLogResponse, err error) {
	defer guard("audit log", &err)
	if req.GetMarkReadThrough() > 0xffff {
		return nil, toStatus(fmt.Errorf("audit log: mark_read_through %d is not a 16-bit entry number: %w", req.GetMarkReadThrough(), ErrUnsupported))
	}
	log, err := ReadAuditLog(ctx, s.impl, keyFromProto(req.GetKey()), AuditLogRequest{
		MarkRead: req.GetMarkRead(), MarkReadThrough: uint16(req.GetMarkReadThrough()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.AuditLogResponse{
		UnloggedBoots: uint32(log.UnloggedBoots), UnloggedAuths: uint32(log.UnloggedAuths),
		Entries: make([]*pb.AuditLogEntry, 0, len(log.Entries)),
	}
	for _, e := range log.Entries {
		resp.Entries = append(resp.Entries, &pb.AuditLogEntry{
			Number: uint32(e.Number), Command: uint32(e.Command), Length: uint32(e.Length),
			SessionKey: uint32(e.SessionKey), TargetKey: uint32(e.TargetKey), SecondKey: uint32(e.SecondKey),
			Result: uint32(e.Result), Tick: e.Tick, Digest: e.Digest[:],
		})
	}
	return resp, nil
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

var (
	_ KeyLister      = (*grpcClient)(nil)
	_ AuditLogReader = (*grpcClient)(nil)
)

// ListKeys asks the plugin. A plugin without the operation answers ErrUnsupported, one
// built before protocol 1.3 UNIMPLEMENTED, which fromStatus turns into ErrUnsupported.
func (c *grpcClient) ListKeys(ctx context.Context, key Key) ([]KeyEntry, error) {
	resp, err := c.client.ListKeys(ctx, &pb.ListKeysRequest{Key: keyToProto(key)})
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	entries := make([]KeyEntry, 0, len(resp.GetKeys()))
	for _, k := range resp.GetKeys() {
		e := KeyEntry{URI: k.GetUri(), Label: k.GetLabel(), Attributes: maps.Clone(k.GetAttributes())}
		if k.GetCreatedUnix() != 0 {
			e.Created = time.Unix(k.GetCreatedUnix(), 0).UTC()
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// AuditLog asks the plugin and refuses an answer whose fields do not fit the device's
// encoding (a plugin that does not speak the contract): it is not a log that can be checked.
func (c *grpcClient) AuditLog(ctx context.Context, key Key, req AuditLogRequest) (AuditLogResult, error) {
	resp, err := c.client.AuditLog(ctx, &pb.AuditLogRequest{
		Key: keyToProto(key), MarkRead: req.MarkRead, MarkReadThrough: uint32(req.MarkReadThrough),
	})
	if err != nil {
		return AuditLogResult{}, c.fail(ctx, err)
	}
	if resp.GetUnloggedBoots() > 0xffff || resp.GetUnloggedAuths() > 0xffff {
		return AuditLogResult{}, fmt.Errorf("audit log: plugin sent unlogged counts %d and %d, which do not fit 16 bits: %w",
			resp.GetUnloggedBoots(), resp.GetUnloggedAuths(), ErrDevice)
	}
	out := AuditLogResult{
		UnloggedBoots: uint16(resp.GetUnloggedBoots()), UnloggedAuths: uint16(resp.GetUnloggedAuths()),
		Entries: make([]AuditLogEntry, 0, len(resp.GetEntries())),
	}
	for i, e := range resp.GetEntries() {
		if max(e.GetNumber(), e.GetLength(), e.GetSessionKey(), e.GetTargetKey(), e.GetSecondKey()) > 0xffff ||
			max(e.GetCommand(), e.GetResult()) > 0xff || len(e.GetDigest()) != 16 {
			return AuditLogResult{}, fmt.Errorf("audit log: plugin sent entry %d with a field that does not fit the device's encoding: %w", i, ErrDevice)
		}
		entry := AuditLogEntry{
			Number: uint16(e.GetNumber()), Command: uint8(e.GetCommand()), Length: uint16(e.GetLength()),
			SessionKey: uint16(e.GetSessionKey()), TargetKey: uint16(e.GetTargetKey()), SecondKey: uint16(e.GetSecondKey()),
			Result: uint8(e.GetResult()), Tick: e.GetTick(),
		}
		copy(entry.Digest[:], e.GetDigest())
		out.Entries = append(out.Entries, entry)
	}
	return out, nil
}

func keyToProto(k Key) *pb.Key { return &pb.Key{Uri: k.URI, Pin: k.PIN} }

func keyFromProto(k *pb.Key) Key { return Key{URI: k.GetUri(), PIN: k.GetPin()} }
