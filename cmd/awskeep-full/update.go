package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

func newUpdateCommand(e *env) *cobra.Command {
	var f credentialFlags
	var section string
	var daemon bool
	cmd := &cobra.Command{
		Use:   "update (--profile NAME | --key URI --access-key-id AKID) [--credentials-profile NAME] [--daemon] [flags]",
		Short: "Write temporary credentials into the shared credentials file",
		Long: `Write temporary credentials (from the cache, or fresh from STS) into section NAME of the
shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), for
tools that read only that file. NAME is --credentials-profile, default the profile's name.

The section gets aws_access_key_id, aws_secret_access_key, aws_session_token and
x_security_token_expires (RFC 3339); its other keys and comments, the other sections and
every other byte of the file stay as they were. The file is created with mode 0600; a file
that group or others may read is refused. A symbolic link is kept and the file it points
to is written. On success one line says what was written.

With --daemon, awskeep keeps running and writes fresh credentials 15 minutes before the
written ones expire (half-way through the rest of their lifetime when that is under 30
minutes), logging one line per refresh to stderr (at info level, unless --log-level says
otherwise). A failed refresh is retried, with backoff up to a minute, while the written
credentials are valid; if they expire first, awskeep exits 1. A wrong PIN is never
retried. SIGINT or SIGTERM stop it with status 0.

The file then holds the secret access key and the session token: the AWS CLI and SDKs
read them from there for the profile NAME.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := section
			if name == "" {
				name = f.profile
			}
			if name == "" {
				return usagef("update needs a section name: --profile NAME or --credentials-profile NAME")
			}
			if err := credfile.CheckName(name); err != nil {
				return usagef("%v; choose the section with --credentials-profile NAME", err)
			}
			if daemon && f.settings.MFACode != "" {
				return usagef("--mfa-code is good for one refresh only; with --daemon let awskeep_mfa_process or the terminal prompt answer")
			}
			path, err := credfile.DefaultPath(e.getenv)
			if err != nil {
				return creds.Wrap(creds.ClassConfig, "credentials file", err)
			}
			// A daemon keeps its plugin between refreshes: fresh credentials without a
			// process start (the pool starts a new one if it has died).
			var pool *pluginhost.Pool
			if daemon {
				pool = pluginhost.NewPool(e.logger, f.host.options(e))
				defer pool.Close()
			}
			u := &updater{
				path: path, section: name, now: e.now, after: time.After,
				retrieve: func(ctx context.Context) (creds.Credentials, error) {
					_, c, err := f.retrieveWith(ctx, e, pool)
					return c, err
				},
				write: func(c creds.Credentials) error {
					return credfile.Update(path, name, c, func(o *credfile.Options) { o.Now = e.now })
				},
			}
			if !daemon {
				c, err := u.once(cmd.Context())
				if err != nil {
					return err
				}
				expires := ""
				if !c.Expiration.IsZero() {
					expires = "; expires " + c.Expiration.UTC().Format(time.RFC3339)
				}
				_, err = fmt.Fprintf(e.stdout, "updated [%s] in %s%s\n", name, path, expires)
				return err
			}
			// A daemon that logs nothing looks dead: info level, unless the user chose one.
			u.log = e.logger
			if !cmd.Flags().Changed("log-level") && !cmd.Flags().Changed("debug") && e.getenv("AWSKEEP_LOG_LEVEL") == "" {
				u.log = newLogger(e.stderr, "info")
			}
			return u.daemon(cmd.Context())
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&section, "credentials-profile", "", "section of the credentials file to write (default the --profile name)")
	cmd.Flags().BoolVar(&daemon, "daemon", false, "keep running: write fresh credentials before the written ones expire")
	return cmd
}

// The refresh schedule of update --daemon.
const (
	// refreshAhead is how long before expiry the section is rewritten: the margin
	// credential_process clients keep, and below which the cache no longer answers, so
	// the refresh really fetches new credentials.
	refreshAhead = 15 * time.Minute
	// shortLifetime: credentials with less than this left are refreshed half-way through
	// what is left instead (test credentials, or a cache entry that was nearly used up).
	shortLifetime = 30 * time.Minute
	// minRefreshWait keeps a source that returns nearly expired credentials from making
	// the loop spin.
	minRefreshWait = time.Second
	// retryMin and retryMax bound the backoff after a failed refresh.
	retryMin = time.Second
	retryMax = time.Minute
)

// updater writes credentials into one section of the shared credentials file, once or
// in a refresh loop. Its collaborators are functions so that the loop can be tested with
// a fake source and clock.
type updater struct {
	path, section string
	retrieve      func(context.Context) (creds.Credentials, error)
	write         func(creds.Credentials) error
	now           func() time.Time
	after         func(time.Duration) <-chan time.Time
	log           *slog.Logger
}

// once retrieves credentials and writes them.
func (u *updater) once(ctx context.Context) (creds.Credentials, error) {
	c, err := u.retrieve(ctx)
	if err != nil {
		return creds.Credentials{}, err
	}
	if err := u.write(c); err != nil {
		return creds.Credentials{}, fmt.Errorf("update [%s]: %w", u.section, err)
	}
	return c, nil
}

// nextRefresh is how long to wait, at now, before replacing c: until refreshAhead before
// its expiry, or half of what is left when that is under shortLifetime; at least
// minRefreshWait.
func nextRefresh(c creds.Credentials, now time.Time) time.Duration {
	left := c.Remaining(now)
	wait := left - refreshAhead
	if left < shortLifetime {
		wait = left / 2
	}
	return max(wait, minRefreshWait)
}

// daemon writes credentials, then rewrites them on nextRefresh's schedule until ctx ends
// (a signal: nil, exit 0). The first failure ends it at once (a setting or the device is
// wrong, and nothing valid was written); a later one is logged and retried with backoff
// from retryMin to retryMax while the written credentials are valid, and ends it once
// they have expired. Errors retrying cannot mend (a wrong PIN, a bad setting, a missing
// answer to a prompt) end it at once.
func (u *updater) daemon(ctx context.Context) error {
	var cur creds.Credentials
	var have bool
	var backoff time.Duration
	for {
		c, err := u.once(ctx)
		now := u.now()
		var wait time.Duration
		switch {
		case err == nil:
			// Logged even when a signal came meanwhile: the file was written.
			cur, have, backoff = c, true, 0
			wait = nextRefresh(c, now)
			u.log.Info("credentials refreshed", "section", u.section, "file", u.path,
				"expires", c.Expiration.UTC().Format(time.RFC3339), "next_refresh", wait.Round(time.Second).String())
		case ctx.Err() != nil:
			return nil // a signal interrupted the refresh: a clean stop, not a failure
		case !have, !retryable(err):
			return err
		case cur.Remaining(now) <= 0:
			return fmt.Errorf("update [%s]: the credentials written to %s expired at %s before a refresh succeeded: %w",
				u.section, u.path, cur.Expiration.UTC().Format(time.RFC3339), err)
		default:
			backoff = min(max(2*backoff, retryMin), retryMax)
			wait = min(backoff, cur.Remaining(now))
			u.log.Warn("refreshing credentials failed; retrying", "section", u.section, "retry_in", wait.Round(time.Millisecond).String(),
				"expires", cur.Expiration.UTC().Format(time.RFC3339), "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-u.after(wait):
		}
	}
}

// retryable reports whether a failed refresh may succeed if tried again unchanged.
func retryable(err error) bool {
	switch {
	case errors.Is(err, plugins.ErrPINIncorrect), errors.Is(err, plugins.ErrPINLocked):
		return false // each failure counts against the device (DESIGN.md, "Security rules")
	case errors.Is(err, credfile.ErrInvalidName), errors.Is(err, credfile.ErrUnsupported):
		return false
	}
	switch creds.ClassOf(err) {
	case creds.ClassConfig, creds.ClassPrompt:
		return false
	}
	return true
}
