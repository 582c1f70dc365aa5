package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/core/migrate"
	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func init() { extraCommands = append(extraCommands, newMigrateCommand) }

// migrateInput is the command line of awskeep migrate.
type migrateInput struct {
	profile string
	pinFile string
	dryRun  bool
}

func newMigrateCommand(e *env) *cobra.Command {
	var in migrateInput
	cmd := &cobra.Command{
		Use:   "migrate --profile NAME [--pin-file PATH] [--dry-run]",
		Short: "Rewrite a profile that runs aws-pkcs-process-credential or aws-tpm-process-credential",
		Long: `Rewrite a profile of $AWS_CONFIG_FILE (default ~/.aws/config) whose credential_process
runs aws-pkcs-process-credential or aws-tpm-process-credential so that it runs awskeep:
each flag of the old line becomes a profile key or key URI attribute as docs/migrating.md
says (--pkcs-uri or the TPM flags -> awskeep_key, --aws-access-key-id ->
awskeep_access_key_id, --assumeRole=true --aws-arn -> awskeep_role_arn, --aws-region ->
region, --aws-session-name -> role_session_name, --duration -> duration_seconds). A flag
the guide does not map is refused, by name. Every other line of the file is kept byte
for byte.

The new key URI names a new key: the secret is imported again (the old object's
attributes are not awskeep's): object=aws-NAME on the same token, or the TSS2 PEM key file
$XDG_CONFIG_HOME/awskeep/NAME.tss2.pem for a TPM. A PIN or key password on the old line
(pin-value= in --pkcs-uri, --keyPass) does not stay in the profile: --pin-file PATH
writes it to a new file, mode 0600, and the URI gets pin-source=file:PATH; without
--pin-file such a line is refused. The PIN is never printed.

--dry-run prints the profile's section as it would be and changes nothing. Otherwise prints
one line, and on standard error the next step: import the secret with awskeep import
--key URI.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMigrate(cmd.Context(), e, &in)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&in.profile, "profile", "", "the profile of $AWS_CONFIG_FILE whose credential_process to rewrite")
	fs.StringVar(&in.pinFile, "pin-file", "", "new file (mode 0600) for the PIN or key password found on the old line")
	fs.BoolVar(&in.dryRun, "dry-run", false, "print the profile's new section and change nothing")
	return cmd
}

func runMigrate(ctx context.Context, e *env, in *migrateInput) error {
	if in.profile == "" {
		return usagef("say which profile to migrate: --profile NAME")
	}
	fail := func(err error) error { return fmt.Errorf("migrate %s: %w", in.profile, err) }
	path, err := profile.DefaultPath(e.getenv)
	if err != nil {
		return fail(err)
	}
	p, err := profile.Load(path, in.profile)
	if err != nil {
		return fail(err)
	}
	if p.CredentialProcess == "" {
		return fail(fmt.Errorf("%s has no credential_process to migrate", p.Where("credential_process")))
	}
	old, err := migrate.Parse(p.CredentialProcess)
	if err != nil {
		return fail(fmt.Errorf("credential_process at %s: %w", p.Where("credential_process"), err))
	}
	o := migrate.Options{Profile: in.profile}
	if o.KeyDir, err = configDir(e); err != nil {
		return fail(err)
	}
	if in.pinFile != "" {
		if o.PINFile, err = filepath.Abs(in.pinFile); err != nil {
			return fail(fmt.Errorf("pin file: %w", err))
		}
		if _, err := os.Lstat(o.PINFile); err == nil {
			return fail(fmt.Errorf("pin file %s exists: pass --pin-file with a new path", o.PINFile))
		}
	}
	m, err := migrate.Map(old, o)
	if errors.Is(err, migrate.ErrNeedPINFile) {
		return fail(fmt.Errorf("%w: pass --pin-file PATH to move it to a new 0600 file", err))
	}
	if err != nil {
		return fail(err)
	}
	if in.dryRun {
		data, err := os.ReadFile(path)
		if err != nil {
			return fail(fmt.Errorf("config file: %w", err))
		}
		section, err := credfile.ConfigSection(data, in.profile, m.Settings)
		if err != nil {
			return fail(err)
		}
		_, err = e.stdout.Write(section)
		return err
	}
	if m.Tool == migrate.TPM {
		// import writes the key file there; the directory is awskeep's own, private.
		if err := os.MkdirAll(o.KeyDir, 0o700); err != nil {
			return fail(fmt.Errorf("key file directory: %w", err))
		}
	}
	if m.PIN != "" {
		if err := writePINFile(ctx, o.PINFile, m); err != nil {
			return fail(err)
		}
	}
	if err := credfile.UpdateConfig(path, in.profile, m.Settings); err != nil {
		if m.PIN != "" {
			os.Remove(o.PINFile) // ours: written a moment ago, and the profile does not name it
		}
		return fail(err)
	}
	if _, err := fmt.Fprintf(e.stdout, "migrated profile %s from %s\n", in.profile, m.Tool); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "next: import the secret again (on standard input, never argv; see docs/migrating.md): awskeep import --key %s\n", shellQuote(m.Key))
	return nil
}

// writePINFile writes the PIN to a new 0600 file and reads it back the way every later
// command will, so that a URI that does not lead to it fails now, not at first use.
func writePINFile(ctx context.Context, path string, m *migrate.Migration) error {
	if err := savePassword(path, m.PIN, false); err != nil {
		return err
	}
	u, err := keyuri.Parse(m.Key)
	if err == nil {
		var got string
		got, err = pin.Resolve(ctx, u, func(o *pin.Options) { o.Getenv = func(string) string { return "" }; o.NoPrompt = true })
		if err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(m.PIN)) != 1 {
			err = errors.New("it does not read back what was written")
		}
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("pin file %s: %w", path, err)
	}
	return nil
}

// configDir is $XDG_CONFIG_HOME/awskeep, else ~/.config/awskeep.
func configDir(e *env) (string, error) {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "awskeep"), nil
}
