//go:build docgen

package main

import (
	"bytes"
	"os"

	"github.com/awskeep/awskeep/cmd/internal/configref"
	"github.com/spf13/cobra"
)

// This file is built only by `make docs` (go run -tags docgen): the released binary does
// not carry the reference generator.
func init() {
	extraCommands = append(extraCommands, func(e *env) *cobra.Command {
		return &cobra.Command{
			Use:    "gen-reference FILE",
			Short:  "Write the configuration reference (Markdown) into FILE",
			Hidden: true,
			Args:   cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var b bytes.Buffer
				if err := configref.Write(&b, cmd.Root()); err != nil {
					return err
				}
				return os.WriteFile(args[0], b.Bytes(), 0o644)
			},
		}
	})
}
