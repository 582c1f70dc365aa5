//go:build mangen

package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// This file is built only by `make man` (go run -tags mangen): the released binary does
// not carry the man page generator.
func init() {
	extraCommands = append(extraCommands, func(e *env) *cobra.Command {
		return &cobra.Command{
			Use:    "gen-man DIR",
			Short:  "Write man pages for every command into DIR",
			Hidden: true,
			Args:   cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := os.MkdirAll(args[0], 0o755); err != nil {
					return err
				}
				header := &doc.GenManHeader{Title: "AWSKEEP", Section: "1", Source: "awskeep", Manual: "awskeep manual"}
				root := cmd.Root()
				root.DisableAutoGenTag = true
				if err := doc.GenManTree(root, header, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "man pages written to %s\n", args[0])
				return err
			},
		}
	})
}
