package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/server"
	"github.com/awskeep/awskeep/core/signproxy"
	"github.com/awskeep/awskeep/core/sinks"
)

func newProxyCommand(e *env) *cobra.Command {
	var f signFlags
	var listen, upstream string
	var allowRemote bool
	format := formatValue{value: "env", choices: []string{"env", "json"}}
	cmd := &cobra.Command{
		Use:   "proxy (--profile NAME | --key URI --access-key-id AKID) [--listen 127.0.0.1:0] [--upstream URL] [flags]",
		Short: "Re-sign AWS requests of any client with the device key on a local endpoint",
		Long: `Run a local AWS endpoint for clients that cannot load Go code (boto3, the AWS CLI,
Terraform) until stopped (SIGTERM, SIGINT). At start it prints on stdout a random local key
pair and the endpoint, then nothing more:

  export AWS_ACCESS_KEY_ID='AKIA...'
  export AWS_SECRET_ACCESS_KEY='...'
  export AWS_ENDPOINT_URL='http://127.0.0.1:PORT'

A client configured with them signs its requests with the local pair. The proxy verifies
each signature (anything else gets 403 with an AWS error body and goes nowhere), signs the
request again with the device key for the same service and region, sends it to --upstream
or to the AWS endpoint of that service and region, and streams the response back
unchanged. No STS call is made and no temporary credentials exist.

The local pair is fresh for every start and is worth nothing outside this proxy. Uploads
stream; S3 uploads of signed chunks are re-signed chunk by chunk. Trailing checksums
(STREAMING-UNSIGNED-PAYLOAD-TRAILER, sent by recent SDKs over HTTPS) are refused: set
request_checksum_calculation = when_required for such clients. The derived signing key is
cached per day and scope unless --no-signing-key-cache. The endpoint listens on loopback;
another address needs --allow-remote.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := server.CheckAddress(listen, allowRemote); err != nil {
				return usagef("--listen: %v", err)
			}
			var up *url.URL
			if upstream != "" {
				u, err := url.Parse(upstream)
				if err != nil {
					// url.Parse's error repeats the value, which may hold a password.
					return usagef("--upstream: not a URL: want http(s)://host[:port]")
				}
				if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
					return usagef("--upstream %q: want http(s)://host[:port], without user, path or query", u.Redacted())
				}
				up = u
			}
			openCtx, cancel := context.WithTimeout(ctx, timeDuration(f.host.timeout))
			key, err := f.open(openCtx, e)
			cancel()
			if err != nil {
				return err
			}
			defer key.Close()
			local, err := signproxy.NewLocalKey()
			if err != nil {
				return err
			}
			p, err := signproxy.New(local, key, signproxy.Options{Upstream: up, Logger: e.logger})
			if err != nil {
				return usagef("--upstream: %v", err)
			}
			defer p.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("proxy: listen on %s: %w", listen, err)
			}
			srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			endpoint := "http://" + ln.Addr().String()
			vars := []sinks.Variable{
				{Name: "AWS_ACCESS_KEY_ID", Value: local.AccessKeyID},
				{Name: "AWS_SECRET_ACCESS_KEY", Value: local.SecretAccessKey},
				{Name: "AWS_ENDPOINT_URL", Value: endpoint},
			}
			if err := printEndpoint(e, vars, format.value); err != nil {
				_ = srv.Close()
				return err
			}
			if allowRemote {
				e.logger.Warn("proxying on a non-loopback address: anyone who can reach it and has the local key signs with the device", "listen", listen)
			}
			e.logger.Info("proxying", "url", endpoint, "upstream", upstream, "key", key.String())
			select {
			case <-ctx.Done():
			case err := <-done:
				if !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("proxy: %w", err)
				}
			}
			sctx, cancelShutdown := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancelShutdown()
			return srv.Shutdown(sctx)
		},
	}
	f.bindKey(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&upstream, "upstream", "", "send every request here (http(s)://host[:port]) instead of the AWS endpoint of its service and region")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a --listen address other machines can reach")
	cmd.Flags().Var(&format, "format", "how to print the client variables: env or json")
	return cmd
}
