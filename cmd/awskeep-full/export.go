package main

import (
	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/sinks"
)

func newExportCommand(e *env) *cobra.Command {
	var f credentialFlags
	format := formatValue{value: "env", choices: sinks.Formats}
	var section string
	cmd := &cobra.Command{
		Use:   "export (--profile NAME | --key URI --access-key-id AKID) [--format env|json|ini] [flags]",
		Short: "Print temporary credentials as shell variables, JSON or a credentials-file section",
		Long: `Print temporary credentials (from the cache, or fresh from STS) in one of three formats:

  env   export AWS_ACCESS_KEY_ID=... lines for a POSIX shell: eval "$(awskeep export --profile P)"
  json  the credential_process JSON object
  ini   a [NAME] section for a shared credentials file (NAME is the profile, or --section)

The output holds the secret access key and the session token: send it where you mean to.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, c, err := f.retrieve(cmd.Context(), e)
			if err != nil {
				return err
			}
			name := section
			if name == "" {
				name = f.profile
			}
			if name == "" && format.value == "ini" {
				return usagef("--format ini needs a section name: --profile NAME or --section NAME")
			}
			out, err := sinks.Export(c, s.Region, format.value, name)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(out)
			return err
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().Var(&format, "format", "output format: env, json or ini")
	cmd.Flags().StringVar(&section, "section", "", "section name for --format ini (default the profile's name)")
	return cmd
}
