package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/plugins"
)

// versionString is what version and --version print: the build (plugins.CurrentBuild:
// version, commit and commit date, stamped by make release, "devel" for any other build),
// the plugin protocol this host speaks, the Go toolchain and the platform.
//
//	awskeep 0.1.0 (commit 0123456789ab, 2026-11-30T15:52:44Z; plugin protocol 1.2, go1.26.8 linux/amd64)
func versionString() string {
	b := plugins.CurrentBuild()
	platform := fmt.Sprintf("plugin protocol %s, %s %s/%s", plugins.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if d := b.Details(); len(d) > 0 {
		return fmt.Sprintf("awskeep %s (%s; %s)", b.Version, strings.Join(d, ", "), platform)
	}
	return fmt.Sprintf("awskeep %s (%s)", b.Version, platform)
}

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
