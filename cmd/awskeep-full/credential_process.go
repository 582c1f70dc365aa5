package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/fastpath"
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
			s, c, err := f.retrieve(cmd.Context(), e)
			if err != nil {
				return err
			}
			out, err := credproc.Marshal(c)
			if err != nil {
				return err
			}
			if _, err = e.stdout.Write(out); err != nil {
				return err
			}
			rememberAnswer(e, &f, s)
			if e.routeLock != nil {
				// The fronts waiting for this answer may read it from the cache now.
				e.routeLock.Close()
			}
			return nil
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

// rememberAnswer leaves the answer file by which the front (cmd/cfront, cmd/awskeep;
// package core/fastpath) answers the same invocation next time without this program: only
// for an invocation fastpath.Routable accepts, with the cache on, and a cache key that
// depends on nothing but the settings (a kerberos SAML profile's depends on the ticket
// cache, which the inputs do not cover). A failure costs only speed; it is logged at debug
// level.
func rememberAnswer(e *env, f *credentialFlags, s engine.Settings) {
	if f.noCache || !fastpath.Routable(e.args) || (s.Source == engine.SourceSAML && s.SAML.Provider == "kerberos") {
		return
	}
	err := func() error {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		inputs, err := fastpath.Inputs(e.args, e.lookupEnv, exe)
		if err != nil {
			return err
		}
		k, err := engine.CacheKeyFor(s, e.getenv)
		if err != nil {
			return err
		}
		c, err := openCache(e)
		if err != nil {
			return err
		}
		return c.PutAnswer(fastpath.Name(inputs), inputs, k, credproc.Marshal)
	}()
	if err != nil {
		e.logger.Debug("no cache answer for the front", "error", err.Error())
	}
}
