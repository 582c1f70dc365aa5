package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/doctor"
)

func newDoctorCommand(e *env) *cobra.Command {
	var f credentialFlags
	cmd := &cobra.Command{
		Use:   "doctor [--profile NAME | --key URI --access-key-id AKID] [flags]",
		Short: "Check the setup and say how to fix what is wrong",
		Long: `Check, in order, what a credential request needs, and print one line per check with
what it found and, for a failure, the fix:

  config    the config file ($AWS_CONFIG_FILE, default ~/.aws/config) and the profile parse;
            unknown awskeep_* settings are named with FILE:LINE
  settings  flags, profile and environment merge into usable settings (no PIN is shown)
  plugin    the plugin for the key URI's scheme is in the search path, not writable by
            others, and matches its pinned sha256 when pinned
  device    the PIN is found (a prompt only on a terminal), the device answers, the key is
            present and non-extractable; one attempt: a wrong PIN is never retried
  sts       the STS endpoint answers HTTP at all (an unsigned request; any status counts)
  clock     the local clock is within 5 minutes of STS's Date header (SigV4 needs it)
  cache     the credential cache directory is private (0700, yours); it is not created

For a SAML profile (awskeep_source = saml) three checks take the place of plugin and device,
and none of them logs in at the identity provider:

  idp       the host of awskeep_saml_url resolves and answers a HEAD of the URL (any status
            counts; through the proxy and CA bundle a login uses; at most 10s)
  password  the IdP password source can answer, never shown: file: is yours and 0600;
            keyring: the awskeep-keyring helper (next to awskeep or on PATH) is writable only
            by root or you, and the item is there (read and discarded: the helper has no
            command that only tests for an item); conjur: the Conjur settings (awskeep_conjur_*
            or CONJUR_*) are complete and Conjur accepts the login (the variable is not read);
            prompt: a terminal is there to ask on
  kerberos  the ticket cache holds an unexpired ticket-granting ticket (its principal is
            shown) and the realm's KDC issues a ticket for the IdP's HTTP/<host>, which goes
            to a listener of doctor's own, not to the IdP

Each line starts with ok, FAIL or skip (a check whose prerequisite failed is skipped, with
the reason). Without --profile and --key only the checks that need no key run, and the
plugin check covers every installed plugin. doctor takes the same flags as
credential-process, so every setting can be checked; --timeout bounds each check that
does I/O (device, STS, password source, KDC), and --no-cache skips the cache check.

Unlike the other commands, doctor prints its report on stdout even when a check fails: the
report is its output. It then exits 1 with one line on stderr,
"awskeep: doctor: N of M checks failed"; it exits 0 when no check failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd.Context(), &f, e) },
	}
	f.bind(cmd.Flags())
	return cmd
}

// runDoctor runs the checks and prints the report; it fails when a check failed.
func runDoctor(ctx context.Context, f *credentialFlags, e *env) error {
	flags := f.settings
	flags.Duration = timeDuration(f.duration)
	results := doctor.Run(ctx, doctor.Input{
		Profile: f.profile, Flags: flags, Getenv: e.getenv, Plugins: f.host.options(e),
		Logger: e.logger, Now: e.now, Timeout: timeDuration(f.host.timeout), NoCache: f.noCache,
	})
	if err := printDoctor(e.stdout, results); err != nil {
		return err
	}
	if n := doctor.Failed(results); n > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", n, len(results))
	}
	return nil
}

// printDoctor prints one line per check: the status padded to four columns, two spaces,
// "NAME: DETAIL", and " — fix: FIX" when there is a fix.
func printDoctor(w io.Writer, results []doctor.Result) error {
	for _, r := range results {
		line := fmt.Sprintf("%-4s  %s: %s", r.Status, r.Name, oneLine(r.Detail))
		if r.Fix != "" {
			line += " — fix: " + oneLine(r.Fix)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
