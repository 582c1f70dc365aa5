package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/audit"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func init() { extraCommands = append(extraCommands, newAuditCommand) }

// exitAlert is audit's status when something needs a person (DESIGN.md: cron and monitoring
// agents alert on it).
const exitAlert = 3

// auditInput is what `awskeep audit` is asked.
type auditInput struct {
	keys     keyFlags
	since    string
	hours    string
	json     bool
	markRead bool
}

func newAuditCommand(e *env) *cobra.Command {
	var in auditInput
	cmd := &cobra.Command{
		Use:   "audit (--key yubihsm:URI | --profile NAME) [--since TIME] [--outside-hours 08:00-18:00] [--json]",
		Short: "Verify the YubiHSM 2 audit log and list its HMAC signings",
		Long: `Read the audit log of a YubiHSM 2, verify its hash chain, and list every HMAC signing
(SIGN_HMAC) with its time, key and session.

A broken chain is reported as tampering, with the entry number. The chain is carried from
one run to the next in $XDG_STATE_HOME/awskeep/audit (default ~/.local/state), so entries
changed or removed between runs are caught too, and entries the device overwrote before
any run read them are reported as lost.

The device logs ticks, not wall time. Each run anchors them: it asks the device about the
key (GET_OBJECT_INFO) just before reading, and that request's entry ties a tick to this
machine's clock. Turn on command audit for SIGN_HMAC and GET_OBJECT_INFO once:
  yubihsm-shell -a put-option --opt-name command-audit --opt-value 53014e01
Times shown with ~ rest on an assumed tick of 1 ms until two runs a minute apart in the
same boot have measured it. docs/audit.md has the details.

Exit status: 0 when all is well; 3 when a signing falls outside --outside-hours (or its time
is unknown), the chain is broken, or entries were lost, for cron or a monitoring agent;
1 on errors. Other backends keep no such log and answer that audit is unsupported.`,
		Example: `  awskeep audit --key 'yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&pin-source=file:/run/awskeep/pw' --outside-hours 08:00-18:00
  awskeep audit --profile prod-hsm --since 24h --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), e, in)
		},
	}
	fs := cmd.Flags()
	in.keys.bind(fs)
	fs.StringVar(&in.since, "since", "", "list signings from this time on: a duration back from now (24h) or a time (2026-11-30T08:00:00Z, 2026-11-30 08:00)")
	fs.StringVar(&in.hours, "outside-hours", "", "flag signings outside these local working hours, e.g. 08:00-18:00 (22:00-06:00 runs over midnight); exit 3 if any")
	fs.BoolVar(&in.json, "json", false, "print the report as JSON")
	fs.BoolVar(&in.markRead, "mark-read", false, "after a clean read, release the entries on the device (SET_LOG_INDEX), as force audit needs")
	return cmd
}

// runAudit reads, verifies and reports the log, and saves the state for the next run.
func runAudit(ctx context.Context, e *env, in auditInput) error {
	var opts audit.Options
	if in.hours != "" {
		h, err := audit.ParseHours(in.hours)
		if err != nil {
			return usagef("--outside-hours: %v", err)
		}
		opts.Hours = &h
	}
	if in.since != "" {
		t, err := audit.ParseSince(in.since, e.now(), time.Local)
		if err != nil {
			return usagef("--since: %v", err)
		}
		opts.Since = t
	}
	u, err := in.keys.deviceURI(e)
	if err != nil {
		return err
	}
	device := deviceName(u)
	opts.Device, opts.Location = device, time.Local
	statePath, err := auditStatePath(e, device)
	if err != nil {
		return err
	}
	st, err := audit.LoadState(statePath)
	if err != nil {
		return creds.Wrap(creds.ClassConfig, "audit state", err)
	}

	return in.keys.withDeviceAt(ctx, e, u, "audit "+device, func(ctx context.Context, d *devicekey.Device) error {
		marker, err := anchor(ctx, e, d, u)
		if err != nil {
			return fmt.Errorf("audit %s: %w", device, err)
		}
		opts.Marker = marker
		res, err := d.AuditLog(ctx, plugins.AuditLogRequest{})
		if errors.Is(err, plugins.ErrUnsupported) {
			return fmt.Errorf("audit %s: the %s plugin keeps no audit log (only yubihsm does); docs/audit.md says what to use for %s keys instead: %w", device, d.Name(), u.Scheme, err)
		}
		if err != nil {
			return fmt.Errorf("audit %s: %w", device, err)
		}
		report, next, err := audit.Analyze(res, st, opts)
		if err != nil {
			return fmt.Errorf("audit %s: %w", device, err)
		}
		if report.Tampered == nil {
			if err := audit.SaveState(statePath, next); err != nil {
				return fmt.Errorf("audit %s: save the chain for the next run: %w", device, err)
			}
			if in.markRead && len(res.Entries) > 0 {
				through := res.Entries[len(res.Entries)-1].Number
				if _, err := d.AuditLog(ctx, plugins.AuditLogRequest{MarkRead: true, MarkReadThrough: through}); err != nil {
					return fmt.Errorf("audit %s: release the entries through %d: %w", device, through, err)
				}
			}
		}
		if in.json {
			err = report.WriteJSON(e.stdout)
		} else {
			err = report.WriteText(e.stdout)
		}
		if err != nil {
			return err
		}
		if alerts := report.Alerts(); len(alerts) > 0 {
			more := ""
			if len(alerts) > 1 {
				more = fmt.Sprintf(" (and %d more above)", len(alerts)-1)
			}
			fmt.Fprintf(e.stderr, "awskeep: audit %s: %s%s\n", device, alerts[0], more)
			return &exitError{exitAlert}
		}
		return nil
	})
}

// deviceName names the device whose log this is: the scheme and connector, without the key,
// the authentication key or secrets (every session on a device sees the same log).
func deviceName(u *keyuri.URI) string {
	d := &keyuri.URI{Scheme: u.Scheme}
	for _, a := range u.WithoutSecrets().Query {
		if a.Name == "connector" || a.Name == "module-path" || a.Name == "device" {
			d.Query = append(d.Query, a)
		}
	}
	return d.String()
}

// auditStatePath is $XDG_STATE_HOME/awskeep/audit/<digest of the device name>.json.
func auditStatePath(e *env, device string) (string, error) {
	dir := e.getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := e.getenv("HOME")
		if home == "" {
			return "", creds.Wrap(creds.ClassConfig, "audit state", errors.New("neither $XDG_STATE_HOME nor $HOME is set: set one so the chain can be kept between runs"))
		}
		dir = filepath.Join(home, ".local", "state")
	}
	sum := sha256.Sum256([]byte(device))
	return filepath.Join(dir, "awskeep", "audit", hex.EncodeToString(sum[:8])+".json"), nil
}

// anchor asks a YubiHSM 2 about the URI's key (GET_OBJECT_INFO) and returns when, so that
// the entry it leaves (with command audit on for GET_OBJECT_INFO) ties a tick to this
// machine's clock. Without an object-id there is nothing to ask about, and no anchor.
func anchor(ctx context.Context, e *env, d *devicekey.Device, u *keyuri.URI) (*audit.Marker, error) {
	if u.Scheme != "yubihsm" {
		return nil, nil
	}
	id, ok := u.PathAttr("object-id")
	if !ok {
		return nil, nil
	}
	object, err := keyuri.ObjectID(id)
	if err != nil {
		return nil, err
	}
	authKey := uint16(1)
	if v, ok := u.QueryAttr("auth-key-id"); ok {
		if authKey, err = keyuri.ObjectID(v); err != nil {
			return nil, err
		}
	}
	before := e.now()
	if _, err := d.Backend.DescribeKey(ctx, d.Key); err != nil {
		if errors.Is(err, plugins.ErrPINIncorrect) || errors.Is(err, plugins.ErrPINLocked) || errors.Is(err, context.DeadlineExceeded) {
			return nil, d.Explain("describe", err) // reading the log would fail the same way (and count another try)
		}
		// E.g. LOG_FULL under force audit: the log can still be read, without an anchor.
		e.logger.Info("audit: no time anchor this run", "error", err)
		return nil, nil
	}
	return &audit.Marker{Object: object, AuthKey: authKey, Before: before, After: e.now()}, nil
}
