package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
)

func newLoginCommand(e *env) *cobra.Command {
	var f credentialFlags
	cmd := &cobra.Command{
		Use:   "login --profile NAME [flags]",
		Short: "Log in now: fresh credentials into the cache (SAML: at the identity provider)",
		Long: `Get fresh temporary credentials now, whatever the cache holds, and store them in the
cache, where credential-process, export, exec and serve find them. For a SAML profile
(awskeep_source = saml) this logs in at the identity provider: it asks for what the
profile says must be asked (a password with awskeep_saml_password_source = prompt, a
verification code, a choice of role) while you are at the terminal, so that later runs
from the AWS CLI need nothing. For a device profile it signs STS with the device key.

It prints one line on stdout: the access key ID, the role (SAML) and when the credentials
expire. The credentials themselves stay in the cache.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.profile == "" && f.settings.Key == "" {
				return usagef("say which profile to log in with: --profile NAME")
			}
			noCache := f.noCache
			f.noCache = true // fetch, whatever the cache holds
			var assumed string
			f.samlRole = func(roleARN string) { assumed = roleARN }
			s, provider, err := f.provider(e, nil)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), loginTimeout(f))
			defer cancel()
			c, err := provider.Retrieve(ctx)
			if err != nil {
				return err
			}
			if !noCache {
				if err := storeInCache(ctx, e, s, c); err != nil {
					return err
				}
			}
			what := s.RoleARN
			if s.Source == engine.SourceSAML {
				what = assumed
			}
			if what == "" {
				what = "session"
			}
			_, err = fmt.Fprintf(e.stdout, "logged in: %s (%s) until %s\n", c.AccessKeyID, what, c.Expiration.Local().Format(time.RFC3339))
			return err
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

// loginTimeout bounds a login: --timeout, and at least five minutes when a person may be
// typing a password, a code or a choice.
func loginTimeout(f credentialFlags) time.Duration {
	return max(timeDuration(f.host.timeout), 5*time.Minute)
}

// storeInCache puts fresh credentials under s's cache entry.
func storeInCache(ctx context.Context, e *env, s engine.Settings, c creds.Credentials) error {
	key, err := engine.CacheKeyFor(s, e.getenv)
	if err != nil {
		return err
	}
	store, err := openCache(e)
	if err != nil {
		return creds.Wrap(creds.ClassCache, "credential cache", err)
	}
	if err := store.Put(ctx, key, c); err != nil {
		return creds.Wrap(creds.ClassCache, "credential cache", err)
	}
	return nil
}
