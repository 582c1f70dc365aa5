package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCacheClearCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Remove all cached temporary credentials",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := openCache(e)
			if err != nil {
				return fmt.Errorf("cache clear: %w", err)
			}
			if err := c.Clear(); err != nil {
				return fmt.Errorf("cache clear: %w", err)
			}
			_, err = fmt.Fprintln(e.stdout, "cache cleared")
			return err
		},
	}
}
