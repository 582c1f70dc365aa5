package sts

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"

	"github.com/awskeep/awskeep/core/creds"
)

// ErrUnreachable means the STS endpoint could not be reached at all.
var ErrUnreachable = errors.New("STS endpoint unreachable")

// APIError is STS's refusal of a call, e.g. AccessDenied or SignatureDoesNotMatch.
type APIError struct {
	Operation string
	Code      string
	Message   string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("STS %s: %s", e.Operation, e.Code)
	}
	// The message is the server's: quoted, so nothing in it passes for awskeep's own words.
	return fmt.Sprintf("STS %s: %s: %q", e.Operation, e.Code, e.Message)
}

// explain classifies err (creds.ClassDevice for the signer, creds.ClassSTS for the rest) and strips the SDK's wrapping down to the cause a user can act on: the device's error,
// STS's refusal, an unreachable endpoint or the deadline.
func explain(op string, err error, capture *errorCapture) error {
	var se *signingError
	if errors.As(err, &se) {
		// The device (or whatever derives kDate) failed; its own class, if any, is kept.
		return creds.Wrap(creds.ClassDevice, "sign STS "+op+" request", se.err)
	}
	if capture.signErr != nil {
		// The SDK dropped the signer's error (it reports a deadline as its own): the request
		// never left, so STS cannot be to blame.
		return creds.Wrap(creds.ClassDevice, "sign STS "+op+" request", capture.signErr)
	}
	if capture.redirect != "" || capture.redirectOf != 0 {
		return creds.Wrap(creds.ClassSTS, "STS "+op, fmt.Errorf("the endpoint answered with a redirect (HTTP %d) to %q; STS does not redirect: set endpoint_url to the right address",
			capture.redirectOf, capture.redirect))
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if api.ErrorCode() == "UnknownError" && capture.code != "" {
			return creds.Wrap(creds.ClassSTS, "", &APIError{Operation: op, Code: capture.code, Message: capture.message})
		}
		return creds.Wrap(creds.ClassSTS, "", &APIError{Operation: op, Code: api.ErrorCode(), Message: api.ErrorMessage()})
	}
	for _, ctxErr := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, ctxErr) {
			return creds.Wrap(creds.ClassSTS, "STS "+op, fmt.Errorf("no answer in time (raise --timeout if the endpoint is slow): %w", ctxErr))
		}
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return creds.Wrap(creds.ClassSTS, "STS "+op, fmt.Errorf("%w: %v", ErrUnreachable, netErr))
	}
	return creds.Wrap(creds.ClassSTS, "STS "+op, err)
}
