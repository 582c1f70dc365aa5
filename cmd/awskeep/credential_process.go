package main

import (
	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/credproc"
)

func newCredentialProcessCommand(e *env) *cobra.Command {
	var f credentialFlags
	cmd := &cobra.Command{
		Use:   "credential-process (--profile NAME | --key URI --access-key-id AKID) [flags]",
		Short: "Print temporary credentials for the AWS CLI and SDKs (credential_process)",
		Long: `Print temporary credentials as the JSON object credential_process expects, for the AWS CLI
and SDKs. They come from the cache while more than 15 minutes remain (no plugin is started);
otherwise the device signs GetSessionToken, or AssumeRole with a role, and the answer is
cached. Prompts (PIN, MFA code) go to the terminal, never to stderr, which the AWS CLI
captures.

In ~/.aws/config:

  [profile prod-hsm]
  credential_process = awskeep credential-process --profile prod-hsm
  awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
  awskeep_access_key_id = AKIAIOSFODNN7EXAMPLE

A source_profile + role_arn profile on top of it lets the CLI chain a role itself.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, c, err := f.retrieve(cmd.Context(), e)
			if err != nil {
				return err
			}
			out, err := credproc.Marshal(c)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(out)
			return err
		},
	}
	f.bind(cmd.Flags())
	return cmd
}
