package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/devicekey"
)

// keyDescription is the JSON `keys describe` prints.
type keyDescription struct {
	URI         string            `json:"uri"`
	Exists      bool              `json:"exists"`
	Extractable bool              `json:"extractable"`
	Sensitive   bool              `json:"sensitive"`
	Algorithm   string            `json:"algorithm,omitempty"`
	Label       string            `json:"label,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Plugin      string            `json:"plugin"`
}

func newKeysDescribeCommand(e *env) *cobra.Command {
	var k keyFlags
	cmd := &cobra.Command{
		Use:   "describe (--key URI | --profile NAME)",
		Short: "Show what the device says about a key (JSON)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return k.withDevice(cmd.Context(), e, "describe", func(ctx context.Context, d *devicekey.Device) error {
				desc, err := d.Backend.DescribeKey(ctx, d.Key)
				if err != nil {
					return fmt.Errorf("describe %s: %w", d.Key.URI, d.Explain("describe", err))
				}
				out, err := json.MarshalIndent(keyDescription{
					URI: d.Key.URI, Exists: desc.Exists, Extractable: desc.Extractable, Sensitive: desc.Sensitive,
					Algorithm: desc.Algorithm, Label: desc.Label, Attributes: desc.Attributes,
					Plugin: d.Info.Name + " " + d.Info.Version,
				}, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s\n", out)
				return err
			})
		},
	}
	k.bind(cmd.Flags())
	return cmd
}

func newKeysDeleteCommand(e *env) *cobra.Command {
	var k keyFlags
	cmd := &cobra.Command{
		Use:   "delete (--key URI | --profile NAME)",
		Short: "Delete a key from its device",
		Long:  "Delete a key from its device. The secret it held is gone for good: keep another copy of the access key or make a new one first.",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return k.withDevice(cmd.Context(), e, "delete", func(ctx context.Context, d *devicekey.Device) error {
				if err := d.Backend.DeleteKey(ctx, d.Key); err != nil {
					return fmt.Errorf("delete %s: %w", d.Key.URI, d.Explain("delete", err))
				}
				_, err := fmt.Fprintf(e.stdout, "deleted %s\n", d.Key.URI)
				return err
			})
		},
	}
	k.bind(cmd.Flags())
	return cmd
}
