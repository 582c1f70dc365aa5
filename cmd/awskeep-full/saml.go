package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/secretsource"
)

func newSAMLStorePasswordCommand(e *env) *cobra.Command {
	var profileName string
	cmd := &cobra.Command{
		Use:   "store-password --profile NAME",
		Short: "Put the identity provider password of a SAML profile into the OS keyring",
		Long: `Ask for the identity provider password of a SAML profile on the terminal, twice and
without echo, and store it in the OS keyring (secret-service, pass, keyctl or an encrypted
file) under the name its awskeep_saml_password_source = keyring:NAME gives. The password
is never read from arguments or the environment.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if profileName == "" {
				return usagef("say which profile: --profile NAME")
			}
			p, err := loadProfile(e, profileName)
			if err != nil {
				return err
			}
			s, err := engine.Resolve(engine.Settings{}, p, e.getenv)
			if err != nil {
				return err
			}
			if s.Source != engine.SourceSAML {
				return creds.Wrap(creds.ClassConfig, "", fmt.Errorf("[profile %s] is not a SAML profile (awskeep_source = saml)", profileName))
			}
			name, ok := strings.CutPrefix(s.SAML.PasswordSource, "keyring:")
			if !ok {
				return creds.Wrap(creds.ClassConfig, "", fmt.Errorf("%s: awskeep_saml_password_source is %q, not keyring:NAME: nothing to store", p.Where("awskeep_saml_password_source"), s.SAML.PasswordSource))
			}
			ctx := cmd.Context()
			tty := prompt.TTY{}
			question := fmt.Sprintf("%s password for %s", s.SAML.Provider, s.SAML.Username)
			password, err := tty.Secret(ctx, question+": ")
			if err != nil {
				return creds.Wrap(creds.ClassPrompt, "", prompt.Required(err, question, "a terminal (store-password only asks there)"))
			}
			again, err := tty.Secret(ctx, "again: ")
			if err != nil {
				return creds.Wrap(creds.ClassPrompt, "", prompt.Required(err, question, "a terminal"))
			}
			if password != again {
				return creds.Wrap(creds.ClassPrompt, "", fmt.Errorf("the two passwords differ: nothing stored"))
			}
			if password == "" {
				return creds.Wrap(creds.ClassPrompt, "", fmt.Errorf("empty password: nothing stored"))
			}
			return storePassword(ctx, e, name, password)
		},
	}
	cmd.Flags().StringVar(&profileName, "profile", "", "the SAML profile of $AWS_CONFIG_FILE whose password to store")
	return cmd
}

func storePassword(ctx context.Context, e *env, name, password string) error {
	err := secretsource.Store(ctx, name, password, secretsource.Options{Getenv: e.getenv, Prompter: prompt.TTY{}})
	if err != nil {
		return creds.Wrap(creds.ClassConfig, "keyring "+name, err)
	}
	_, err = fmt.Fprintf(e.stdout, "stored the password in the keyring as %s\n", name)
	return err
}
