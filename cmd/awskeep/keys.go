package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// keysInput is what `awskeep keys describe|delete` take.
type keysInput struct {
	device deviceFlags
}

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

// withDevice parses the shared device flags of a `keys` subcommand, opens the key's
// device under --timeout and runs op with it.
func withDevice(ctx context.Context, name string, args []string, e *env, op func(context.Context, *device) error) error {
	var in keysInput
	fs := newFlagSet(name, e)
	in.device.bind(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	u, err := in.device.parseKey()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, in.device.timeout)
	defer cancel()
	d, err := openDevice(ctx, u, in.device, e)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, u.WithoutSecrets(), err)
	}
	defer d.Close()
	return op(ctx, d)
}

func runKeysDescribe(ctx context.Context, args []string, e *env) error {
	return withDevice(ctx, "keys describe", args, e, func(ctx context.Context, d *device) error {
		desc, err := d.backend.DescribeKey(ctx, d.key)
		if err != nil {
			return fmt.Errorf("describe %s: %w", d.key.URI, explainDevice(d, "describe", err))
		}
		out, err := json.MarshalIndent(keyDescription{
			URI: d.key.URI, Exists: desc.Exists, Extractable: desc.Extractable, Sensitive: desc.Sensitive,
			Algorithm: desc.Algorithm, Label: desc.Label, Attributes: desc.Attributes,
			Plugin: d.info.Name + " " + d.info.Version,
		}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	})
}

func runKeysDelete(ctx context.Context, args []string, e *env) error {
	return withDevice(ctx, "keys delete", args, e, func(ctx context.Context, d *device) error {
		if err := d.backend.DeleteKey(ctx, d.key); err != nil {
			return fmt.Errorf("delete %s: %w", d.key.URI, explainDevice(d, "delete", err))
		}
		_, err := fmt.Fprintf(e.stdout, "deleted %s\n", d.key.URI)
		return err
	})
}
