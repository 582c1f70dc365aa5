package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/plugins"
)

// versionString is what version and --version print (plugins.VersionLine: the build,
// stamped by make release and "devel" for any other build, the plugin protocol this host
// speaks, the Go toolchain and the platform).
func versionString() string { return plugins.VersionLine("awskeep") }

func newVersionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, versionString())
			return err
		},
	}
}
