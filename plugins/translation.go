package plugins

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/awskeep/awskeep/plugins/internal/pb"
)

// wireErrors maps each sentinel to its wire code and the gRPC status code that carries it.
// Order matters only for errors that wrap several sentinels: the first match wins.
var wireErrors = []struct {
	err  error
	code pb.ErrorCode
	grpc codes.Code
}{
	{ErrKeyNotFound, pb.ErrorCode_ERROR_CODE_KEY_NOT_FOUND, codes.NotFound},
	{ErrPINIncorrect, pb.ErrorCode_ERROR_CODE_PIN_INCORRECT, codes.Unauthenticated},
	{ErrPINLocked, pb.ErrorCode_ERROR_CODE_PIN_LOCKED, codes.PermissionDenied},
	{ErrDeviceUnavailable, pb.ErrorCode_ERROR_CODE_DEVICE_UNAVAILABLE, codes.Unavailable},
	{ErrKeyExists, pb.ErrorCode_ERROR_CODE_KEY_EXISTS, codes.AlreadyExists},
	{ErrAmbiguousKey, pb.ErrorCode_ERROR_CODE_AMBIGUOUS_KEY, codes.FailedPrecondition},
	{ErrUnsupported, pb.ErrorCode_ERROR_CODE_UNSUPPORTED, codes.Unimplemented},
	{ErrInvalidKeyURI, pb.ErrorCode_ERROR_CODE_INVALID_KEY_URI, codes.InvalidArgument},
	{ErrPermissionDenied, pb.ErrorCode_ERROR_CODE_PERMISSION_DENIED, codes.PermissionDenied},
	{ErrMessageTooLarge, pb.ErrorCode_ERROR_CODE_MESSAGE_TOO_LARGE, codes.InvalidArgument},
	{ErrDevice, pb.ErrorCode_ERROR_CODE_DEVICE, codes.Internal},
}

// RemoteError is an error a plugin returned. Its text is the plugin's; it unwraps to the
// contract's sentinel, so errors.Is(err, ErrPINIncorrect) holds in the host.
type RemoteError struct {
	// Sentinel is one of the contract's errors (ErrDevice for codes this host does not know).
	Sentinel error
	// Message is the plugin's error text.
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *RemoteError) Unwrap() error { return e.Sentinel }

// toStatus turns a backend error into a gRPC status error carrying its wire code.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	code, grpcCode := pb.ErrorCode_ERROR_CODE_DEVICE, codes.Internal
	for _, w := range wireErrors {
		if errors.Is(err, w.err) {
			code, grpcCode = w.code, w.grpc
			break
		}
	}
	st, detailErr := status.New(grpcCode, err.Error()).WithDetails(&pb.ErrorDetail{Code: code})
	if detailErr != nil {
		return status.Error(grpcCode, err.Error())
	}
	return st.Err()
}

// fromStatus turns an error from a gRPC call back into the contract's error.
func fromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*pb.ErrorDetail); ok {
			return &RemoteError{Sentinel: sentinelFor(detail.GetCode()), Message: st.Message()}
		}
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if st.Code() == codes.Canceled {
			return context.Canceled
		}
		return context.DeadlineExceeded
	case codes.Unavailable:
		return &RemoteError{Sentinel: ErrPluginUnavailable, Message: "plugin connection lost: " + st.Message()}
	case codes.Unimplemented:
		// No ErrorDetail: the plugin's gRPC server does not know the RPC at all, so it was
		// built before the protocol version that added it (1.3 for ListKeys and AuditLog).
		return &RemoteError{Sentinel: ErrUnsupported, Message: "the plugin does not know this operation (built for an older protocol than " + ProtocolVersion + "): " + st.Message()}
	}
	return &RemoteError{Sentinel: ErrDevice, Message: st.Message()}
}

func sentinelFor(code pb.ErrorCode) error {
	for _, w := range wireErrors {
		if w.code == code {
			return w.err
		}
	}
	return ErrDevice
}
