package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/rotate"
)

func init() { extraCommands = append(extraCommands, newRotateCommand) }

// rotateTimeout is rotate's default --timeout: it waits for IAM to propagate the new key
// (up to rotate.DefaultVerifyFor) on top of the device and IAM calls.
const rotateTimeout = 5 * time.Minute

// rotateInput is the command line of awskeep rotate.
type rotateInput struct {
	profile        string
	keepOld        bool
	deleteInactive bool
	noCache        bool
	host           hostFlags
}

func newRotateCommand(e *env) *cobra.Command {
	var in rotateInput
	cmd := &cobra.Command{
		Use:   "rotate --profile NAME [--keep-old] [--delete-inactive]",
		Short: "Replace a profile's access key with a new one, kept in the same device",
		Long: `Rotate the access key of a device-key profile: IAM creates a new access key (the call is
signed by the old key in the device), its secret goes from IAM's answer straight into the
same device as a new object (prod -> prod-r2, the next TPM handle or YubiHSM object id),
STS is asked to accept it, the profile's awskeep_key and awskeep_access_key_id are
rewritten (every other line of the config file is kept), and the old access key is set
Inactive and then deleted, with its object in the device. The new secret is never
printed, logged or written to a file.

With --keep-old the old access key stays Inactive in IAM and its object stays in the
device (delete both later, or set the key Active again to go back).

An IAM user has at most two access keys. With two, rotate refuses and says which other
key is in the way; with --delete-inactive it deletes that key first if it is Inactive.

Each step is recorded in a journal in $XDG_STATE_HOME/awskeep (no secrets). If rotate is
interrupted (killed, IAM unreachable, the device full), the profile still works with the
old key or the new one, and running the same command again finishes the rotation, or
rolls back a new key whose secret never reached the device.

The IAM user needs iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey and
iam:DeleteAccessKey on itself. IAM is reached at $AWS_ENDPOINT_URL_IAM, $AWS_ENDPOINT_URL
or the profile's endpoint_url when set, as the AWS CLI does; STS as credential-process
does. Prints one line: rotated PROFILE: OLD-ID -> NEW-ID.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRotate(cmd.Context(), e, &in)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&in.profile, "profile", "", "the profile of $AWS_CONFIG_FILE whose key to rotate (awskeep_key, awskeep_access_key_id)")
	fs.BoolVar(&in.keepOld, "keep-old", false, "leave the old access key Inactive in IAM and its object in the device")
	fs.BoolVar(&in.deleteInactive, "delete-inactive", false, "when the IAM user already has two keys, delete the other one if it is Inactive")
	fs.BoolVar(&in.noCache, "no-cache", false, "leave the credential cache alone (by default, cached credentials of the old key are removed)")
	in.host.bind(fs)
	in.host.timeout = durationValue(rotateTimeout)
	fs.Lookup("timeout").DefValue = rotateTimeout.String()
	return cmd
}

func runRotate(ctx context.Context, e *env, in *rotateInput) error {
	if in.profile == "" {
		return usagef("say which profile to rotate: --profile NAME")
	}
	path, err := profile.DefaultPath(e.getenv)
	if err != nil {
		return fmt.Errorf("rotate %s: %w", in.profile, err)
	}
	o := rotate.Options{
		Profile: in.profile, ConfigFile: path, KeepOld: in.keepOld, DeleteInactive: in.deleteInactive,
		Plugins: in.host.options(e), Getenv: e.getenv, Logger: e.logger, Now: e.now,
	}
	if !in.noCache {
		c, err := openCache(e)
		if err != nil {
			return fmt.Errorf("rotate %s: %w (or pass --no-cache)", in.profile, err)
		}
		o.Cache = c
	}
	ctx, cancel := context.WithTimeout(ctx, timeDuration(in.host.timeout))
	defer cancel()
	res, err := rotate.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("rotate %s: %w", in.profile, err)
	}
	line := fmt.Sprintf("rotated %s: %s -> %s", res.Profile, res.OldAccessKeyID, res.NewAccessKeyID)
	if res.KeptOld {
		line += fmt.Sprintf(" (%s is inactive; its object %s is kept)", res.OldAccessKeyID, res.OldKey)
	}
	_, err = fmt.Fprintln(e.stdout, line)
	return err
}
