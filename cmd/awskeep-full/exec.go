package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/server"
	"github.com/awskeep/awskeep/core/sinks"
)

func newExecCommand(e *env) *cobra.Command {
	var f credentialFlags
	var allowNested, withServer bool
	cmd := &cobra.Command{
		Use:   "exec (--profile NAME | --key URI --access-key-id AKID) [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with temporary credentials in its environment",
		Long: `Run COMMAND with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION and AWS_REGION set, and AWSKEEP_PROFILE naming the profile.
awskeep's own inputs (AWSKEEP_PIN, AWS_PROFILE, other credentials) are removed from its
environment. Signals awskeep receives are passed to the command, and awskeep exits with
the command's status (128+N if signal N ended it). Running exec inside exec is refused
unless --allow-nested.

With --server the command gets no credentials at all: awskeep serves them on a loopback
ECS endpoint for as long as the command runs (AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN), refreshed before they expire, so long runs keep
working.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: no command to run: awskeep exec --profile NAME -- COMMAND [ARGS...]", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Refused before the device is touched.
			if err := sinks.CheckNested(e.environ(), allowNested); err != nil {
				return err
			}
			in := sinks.ExecInput{
				Argv: args, Environ: e.environ(), AllowNested: allowNested,
				Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr,
			}
			if withServer {
				s, provider, stop, err := f.longLived(cmd.Context(), e)
				if err != nil {
					return err
				}
				defer stop()
				ep, err := server.Listen(provider, "127.0.0.1:0", false, server.Options{Logger: e.logger})
				if err != nil {
					return err
				}
				defer ep.Close(context.Background())
				in.Endpoint, in.Region, in.Profile = ep.Variables(), s.Region, s.Profile
			} else {
				s, c, err := f.retrieve(cmd.Context(), e)
				if err != nil {
					return err
				}
				in.Credentials, in.Region, in.Profile = c, s.Region, s.Profile
			}
			code, err := sinks.Exec(in)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	f.bind(cmd.Flags())
	cmd.Flags().BoolVar(&allowNested, "allow-nested", false, "run even inside another awskeep exec")
	cmd.Flags().BoolVar(&withServer, "server", false, "give the command a local credentials endpoint instead of the credentials")
	return cmd
}
