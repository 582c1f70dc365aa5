package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sinks"
)

// ErrNotLoopback means a listen address that other machines could reach was given without
// permission to use it.
var ErrNotLoopback = errors.New("listen address is not loopback")

// Endpoint is a running local credentials endpoint: Handler on a TCP listener.
type Endpoint struct {
	// URL is the base URL, http://HOST:PORT.
	URL string
	// Token is the ECS authorization token clients must send.
	Token string

	imds bool
	srv  *http.Server
	done chan error
}

// Listen starts serving p at addr ("127.0.0.1:0" picks a free port) with a fresh token.
// addr must be a loopback address unless allowRemote: credentials served to the network
// are served to whoever can reach it (the AWS SDKs themselves refuse plain-HTTP endpoints
// that are not loopback). opts.Token is set here.
func Listen(p creds.Provider, addr string, allowRemote bool, opts Options) (*Endpoint, error) {
	if err := checkLoopback(addr); err != nil && !allowRemote {
		return nil, err
	}
	token, err := Token()
	if err != nil {
		return nil, err
	}
	opts.Token = token
	h, err := Handler(p, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	e := &Endpoint{
		URL: "http://" + ln.Addr().String(), Token: token, imds: opts.IMDS, done: make(chan error, 1),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10},
	}
	go func() { e.done <- e.srv.Serve(ln) }()
	return e, nil
}

// Variables are what a client needs to use the endpoint: the ECS pair and, with IMDS, the
// metadata endpoint.
func (e *Endpoint) Variables() []sinks.Variable {
	vars := []sinks.Variable{
		{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: e.URL + ECSPath},
		{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN", Value: e.Token},
	}
	if e.imds {
		vars = append(vars, sinks.Variable{Name: "AWS_EC2_METADATA_SERVICE_ENDPOINT", Value: e.URL + "/"})
	}
	return vars
}

// Done delivers the error the server stopped with (never nil).
func (e *Endpoint) Done() <-chan error { return e.done }

// Close stops accepting, lets requests in flight finish (as ctx allows) and returns.
func (e *Endpoint) Close(ctx context.Context) error {
	err := e.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return e.srv.Close()
	}
	return err
}

// CheckAddress checks a listen address as Listen will: it must be host:port, and a
// loopback address unless allowRemote (otherwise the error wraps ErrNotLoopback).
// Commands call it first, to refuse a bad address before any device or network work.
func CheckAddress(addr string, allowRemote bool) error {
	if err := checkLoopback(addr); err != nil && (!allowRemote || !errors.Is(err, ErrNotLoopback)) {
		return err
	}
	return nil
}

// checkLoopback says whether addr's host is a loopback address (or localhost).
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q (credentials would be served to anyone who can reach it; pass --allow-remote if you mean it)", ErrNotLoopback, addr)
}
