package plugins

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
)

// contractSentinels are the errors a backend may return, in the order the wire mapping
// tests them.
var contractSentinels = []error{
	ErrKeyNotFound, ErrPINIncorrect, ErrPINLocked, ErrDeviceUnavailable, ErrKeyExists,
	ErrAmbiguousKey, ErrUnsupported, ErrInvalidKeyURI, ErrPermissionDenied, ErrMessageTooLarge,
	ErrDevice,
}

// unavailableErrnos are the operating system's ways of saying that a device, daemon or
// server cannot be reached now: the user can act (start it, plug it in, check the address)
// and nothing is wrong with the key.
var unavailableErrnos = []syscall.Errno{
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EHOSTUNREACH,
	syscall.ENETUNREACH, syscall.ENETDOWN, syscall.EPIPE, syscall.ETIMEDOUT, syscall.ENODEV,
	syscall.ENXIO, syscall.EBUSY, syscall.ENOSPC, syscall.EDQUOT,
}

// SystemSentinel returns the contract's sentinel for an error of the operating system or
// the network that a backend meets while reaching its device, or nil if err is none of
// those:
//
//   - ErrDeviceUnavailable: connection refused, reset or aborted, host or network
//     unreachable, a broken pipe, a name that does not resolve (*net.DNSError), a timeout
//     (a net.Error whose Timeout is true, os.ErrDeadlineExceeded, ETIMEDOUT,
//     context.DeadlineExceeded), a server certificate that does not verify, a device that is
//     absent or busy (ENODEV, ENXIO, EBUSY), a full disk or quota (ENOSPC, EDQUOT).
//   - ErrPermissionDenied: fs.ErrPermission (EACCES, EPERM) and a read-only file system
//     (EROFS).
//   - the sentinel itself when err already wraps one of the contract's.
//
// fs.ErrNotExist is deliberately not mapped: a missing key file is ErrKeyNotFound, a
// missing device node or socket ErrDeviceUnavailable, and only the backend knows which it
// opened. Most backends call WrapSystemError instead.
func SystemSentinel(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range contractSentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		tlsErr  *tls.CertificateVerificationError
		authErr x509.UnknownAuthorityError
		hostErr x509.HostnameError
		certErr x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return ErrPermissionDenied
	case errors.As(err, &dnsErr),
		errors.As(err, &netErr) && netErr.Timeout(),
		errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &tlsErr), errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &certErr):
		return ErrDeviceUnavailable
	}
	for _, errno := range unavailableErrnos {
		if errors.Is(err, errno) {
			return ErrDeviceUnavailable
		}
	}
	return nil
}

// WrapSystemError turns err, an error of the operating system or the network met while
// reaching the device during a call whose context is ctx, into an error for the host, with
// prefix ("vault: read transit/keys/prod") in front:
//
//   - ctx has ended: prefix: ctx.Err(), so the host sees the cancellation or its own
//     deadline (the conformance kit checks both), not a device fault;
//   - err already wraps a contract sentinel: prefix: err, unchanged otherwise;
//   - SystemSentinel knows it: prefix: err's text: the sentinel (a timeout of the backend's
//     own, such as an http.Client Timeout, is ErrDeviceUnavailable: the device did not
//     answer, the caller's deadline has not passed);
//   - anything else: prefix: err's text: ErrDevice.
//
// The result wraps exactly one sentinel: err's text is kept but err itself is not wrapped,
// so that a context.DeadlineExceeded inside an HTTP client's timeout error does not make
// the host believe its own deadline passed. It returns nil for a nil err. Map your device's
// own error codes first and call it for what is left.
func WrapSystemError(ctx context.Context, prefix string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", prefix, ctxErr)
	}
	if s := SystemSentinel(err); s != nil {
		for _, c := range contractSentinels {
			if errors.Is(err, c) {
				return fmt.Errorf("%s: %w", prefix, err)
			}
		}
		return fmt.Errorf("%s: %v: %w", prefix, err, s)
	}
	return fmt.Errorf("%s: %v: %w", prefix, err, ErrDevice)
}
