package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/refresh"
	"github.com/awskeep/awskeep/core/server"
	"github.com/awskeep/awskeep/core/sinks"
)

// shutdownGrace bounds how long requests in flight may take to finish at shutdown.
const shutdownGrace = 5 * time.Second

func newServeCommand(e *env) *cobra.Command {
	var f credentialFlags
	var listen string
	var imds, allowRemote bool
	format := formatValue{value: "env", choices: []string{"env", "json"}}
	cmd := &cobra.Command{
		Use:   "serve (--profile NAME | --key URI --access-key-id AKID) [--listen 127.0.0.1:0] [--imds] [flags]",
		Short: "Serve credentials to long-running clients (ECS container endpoint, IMDSv2)",
		Long: `Serve temporary credentials on a local endpoint until stopped (SIGTERM, SIGINT), as the
ECS container credentials endpoint and, with --imds, as EC2's instance metadata (IMDSv2).
At start it prints on stdout what a client needs, then nothing more:

  export AWS_CONTAINER_CREDENTIALS_FULL_URI='http://127.0.0.1:PORT/awskeep/credentials'
  export AWS_CONTAINER_AUTHORIZATION_TOKEN='...'
  export AWS_EC2_METADATA_SERVICE_ENDPOINT='http://127.0.0.1:PORT/'    (with --imds)

The token is fresh for every start; a request without it gets 401 and nothing else. The
device's plugin stays running (restarted after a crash), and the credentials are refreshed
in the background well before they expire, so requests do not wait for STS. The endpoint
listens on loopback; another address needs --allow-remote.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			// Refused before the device and STS are touched.
			if err := server.CheckAddress(listen, allowRemote); err != nil {
				return usagef("--listen: %v", err)
			}
			s, provider, stop, err := f.longLived(ctx, e)
			if err != nil {
				return err
			}
			defer stop()
			if allowRemote {
				e.logger.Warn("serving credentials on a non-loopback address: anyone who can reach it and has the token gets them", "listen", listen)
			}
			ep, err := server.Listen(provider, listen, allowRemote, server.Options{IMDS: imds, Logger: e.logger})
			if err != nil {
				return usageOrFailure(err)
			}
			if err := printEndpoint(e, ep.Variables(), format.value); err != nil {
				_ = ep.Close(context.Background())
				return err
			}
			e.logger.Info("serving credentials", "url", ep.URL, "profile", s.Profile, "imds", imds)
			select {
			case <-ctx.Done():
			case err := <-ep.Done():
				return fmt.Errorf("serve: %w", err)
			}
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return ep.Close(sctx)
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&imds, "imds", false, "also serve EC2 instance metadata (IMDSv2)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a --listen address other machines can reach")
	cmd.Flags().Var(&format, "format", "how to print the client variables: env or json")
	return cmd
}

// longLived builds the provider of a long-running command: the profile's source with its
// plugin kept warm (restarted after a crash), the cache, and background refresh. The first
// credentials are fetched now, so a broken set-up fails at start and no client waits for
// STS later. stop ends the refresh and the plugin.
func (f *credentialFlags) longLived(ctx context.Context, e *env) (engine.Settings, *refresh.Provider, func(), error) {
	pool := pluginhost.NewPool(e.logger, f.host.options(e))
	s, source, err := f.provider(e, pool)
	if err != nil {
		pool.Close()
		return s, nil, nil, err
	}
	timeout := timeDuration(f.host.timeout)
	r := refresh.New(source, func(o *refresh.Options) {
		o.Logger = e.logger
		o.FetchTimeout = timeout
	})
	stop := func() {
		_ = r.Close()
		pool.Close()
	}
	first, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := r.Retrieve(first); err != nil {
		stop()
		return s, nil, nil, err
	}
	r.Start()
	return s, r, stop, nil
}

// printEndpoint prints the client variables once, as shell lines or a JSON object.
func printEndpoint(e *env, vars []sinks.Variable, format string) error {
	var out []byte
	switch format {
	case "json":
		m := map[string]string{}
		for _, v := range vars {
			m[v.Name] = v.Value
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		out = append(data, '\n')
	default:
		for _, v := range vars {
			out = fmt.Appendf(out, "export %s=%s\n", v.Name, sinks.ShellQuote(v.Value))
		}
	}
	_, err := e.stdout.Write(out)
	return err
}

// usageOrFailure makes a refused listen address a usage error.
func usageOrFailure(err error) error {
	if errors.Is(err, server.ErrNotLoopback) {
		return usagef("%v", err)
	}
	return err
}
