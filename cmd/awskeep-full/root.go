package main

import (
	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree. Every command prints its output to e.stdout and
// nothing else; help goes to stdout when asked for, errors are returned to run.
func newRootCommand(e *env) *cobra.Command {
	var logLevel string
	var debug bool
	root := &cobra.Command{
		Use:   "awskeep",
		Short: "Keep AWS secret access keys in hardware; hand out short-lived credentials",
		Long: `awskeep keeps AWS secret access keys inside hardware (PKCS#11 tokens, YubiHSM 2, TPM 2.0):
after import the secret never leaves the device, which computes the first HMAC of AWS
Signature Version 4. awskeep signs STS with it and hands temporary credentials to the AWS
CLI and SDKs (credential-process), to shells (export) and to programs (exec).

Settings live in profiles of ~/.aws/config ($AWS_CONFIG_FILE):

  [profile prod-hsm]
  region = eu-west-1
  credential_process = awskeep credential-process --profile prod-hsm
  awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
  awskeep_access_key_id = AKIAIOSFODNN7EXAMPLE`,
		Version:           versionString(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              cobra.ArbitraryArgs,
		RunE:              groupRun,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case debug:
				logLevel = "debug"
			case !cmd.Flags().Changed("log-level"):
				logLevel = e.getenv("AWSKEEP_LOG_LEVEL")
			}
			if cmd.Flags().Changed("log-level") || debug {
				switch logLevel {
				case "debug", "info", "warn", "error":
				default:
					return usagef("--log-level %q: want debug, info, warn or error", logLevel)
				}
			}
			e.logger = newLogger(e.stderr, logLevel)
			return nil
		},
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v (run %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	root.PersistentFlags().StringVar(&logLevel, "log-level", "", "log to stderr at this level: debug, info, warn, error (default $AWSKEEP_LOG_LEVEL, else warn)")
	root.PersistentFlags().BoolVar(&debug, "debug", false, "log at debug level (--log-level debug)")

	keys := groupCommand("keys", "List, describe, delete and convert keys in devices")
	keys.AddCommand(newKeysDescribeCommand(e), newKeysDeleteCommand(e), newKeysFromBotoPatchCommand(e))
	for _, hook := range keysCommands {
		keys.AddCommand(hook(e))
	}
	plugins := groupCommand("plugins", "List and pin the installed device plugins")
	plugins.AddCommand(newPluginsListCommand(e), newPluginsPinCommand(e))
	saml := groupCommand("saml", "Manage SAML federation settings")
	saml.AddCommand(newSAMLStorePasswordCommand(e))
	cache := groupCommand("cache", "Manage the credential cache")
	cache.AddCommand(newCacheClearCommand(e))
	root.AddCommand(
		newImportCommand(e),
		newCredentialProcessCommand(e),
		newExportCommand(e),
		newExecCommand(e),
		newServeCommand(e),
		newUpdateCommand(e),
		newCurlCommand(e),
		newPresignCommand(e),
		newProxyCommand(e),
		newLoginCommand(e),
		newDoctorCommand(e),
		keys, plugins, saml, cache,
		newVersionCommand(e),
	)
	// In the tree from the start (cobra adds them only at Execute otherwise), so that their
	// help is pinned by the golden tests and man pages are written for them too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, hook := range extraCommands {
		root.AddCommand(hook(e))
	}
	return root
}

// extraCommands are top-level commands registered by the files that define them (in an
// init function), so that a command lives in one file: man.go (the man page generator,
// behind a build tag), rotate.go, audit.go. cobra sorts commands by name in help.
var extraCommands []func(*env) *cobra.Command

// keysCommands are subcommands of `awskeep keys` registered the same way (keys_list.go).
var keysCommands []func(*env) *cobra.Command

// groupCommand is a command that only holds subcommands: bare, it prints its help.
func groupCommand(name, short string) *cobra.Command {
	return &cobra.Command{Use: name, Short: short, Args: cobra.ArbitraryArgs, RunE: groupRun}
}

// groupRun prints a group's help, or refuses a word that is not one of its subcommands.
func groupRun(cmd *cobra.Command, args []string) error {
	if err := subcommandsOnly(cmd, args); err != nil {
		return err
	}
	return cmd.Help()
}
