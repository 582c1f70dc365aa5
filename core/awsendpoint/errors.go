package awsendpoint

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownHost means Infer cannot read a scope from the host: it is not an AWS
	// endpoint (an IP address, localhost, a custom domain), or it is one whose service or
	// region the host does not tell. Infer returns it inside a *HostError.
	ErrUnknownHost = errors.New("awsendpoint: cannot tell the AWS service and region from the host")

	// ErrInvalidScope means URL was given a service or region that cannot be in a host name.
	ErrInvalidScope = errors.New("awsendpoint: invalid scope")

	// ErrNoEndpoint means URL cannot name one endpoint for the scope: several AWS APIs sign
	// with the same name (lex, aws-marketplace), or the endpoint is a customer resource
	// (execute-api, rds-db).
	ErrNoEndpoint = errors.New("awsendpoint: no single endpoint for the scope")
)

// HostError is the error of Infer. Its text tells the user to name the scope with flags.
type HostError struct {
	Host string // as passed to Infer
	// Reason says what is wrong with an AWS host; it is empty for a host that is not an AWS
	// endpoint at all.
	Reason string
}

func (e *HostError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("cannot tell the AWS service and region from host %q: pass --service and --region", e.Host)
	}
	return fmt.Sprintf("cannot tell the AWS service and region from host %q: %s; pass --service and --region", e.Host, e.Reason)
}

// Unwrap returns ErrUnknownHost.
func (e *HostError) Unwrap() error { return ErrUnknownHost }
