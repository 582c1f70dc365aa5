package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func init() { keysCommands = append(keysCommands, newKeysListCommand) }

// keysListInput is what `awskeep keys list` is asked.
type keysListInput struct {
	keys keyFlags
	json bool
}

// listedKey is one key in `keys list --json`.
type listedKey struct {
	URI   string `json:"uri"`
	Label string `json:"label,omitempty"`
	// Created is RFC 3339, absent when the device does not record it.
	Created    string            `json:"created,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// keyList is what `keys list --json` prints.
type keyList struct {
	Device string      `json:"device"`
	Plugin string      `json:"plugin"`
	Keys   []listedKey `json:"keys"`
}

func newKeysListCommand(e *env) *cobra.Command {
	var in keysListInput
	cmd := &cobra.Command{
		Use:   "list (--key URI | --profile NAME) [--json]",
		Short: "List the awskeep keys on a token, TPM or YubiHSM",
		Long: `List the awskeep keys on the device a key URI names, with the URI of each, its label
and, where the device records it, when it was made.

The URI's object part may be left out: pkcs11:token=aws lists the token, tpm: the TPM's
persistent handles, tpm:dir=/etc/awskeep the key files in that directory, and a YubiHSM
URI without object-id= what its authentication key can see. A key's own URI (or --profile)
lists the keys beside it. The listed URIs keep the pin-source of the one given, so they
can be pasted into awskeep_key as they are.

The PIN is found as for any key (pin-source, pin-value, $AWSKEEP_PIN, then a prompt): a
token shows its keys only after a login. A TPM needs none: end its URI with ?pin-value=
to say so.

Backends that cannot list keys (the plugin does not offer the optional ListKeys
operation) say so in one line and exit 1.`,
		Example: `  awskeep keys list --key 'pkcs11:token=aws?pin-source=file:/run/awskeep/pin'
  awskeep keys list --key 'tpm:dir=/etc/awskeep?pin-value=' --json
  awskeep keys list --profile prod-hsm`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeysList(cmd.Context(), e, in)
		},
	}
	in.keys.bind(cmd.Flags())
	cmd.Flags().BoolVar(&in.json, "json", false, "print the list as JSON")
	return cmd
}

// runKeysList opens the device, lists its keys and prints them.
func runKeysList(ctx context.Context, e *env, in keysListInput) error {
	u, err := in.keys.deviceURI(e)
	if err != nil {
		return err
	}
	where := u.WithoutSecrets().String()
	return in.keys.withDeviceAt(ctx, e, u, "list keys on "+where, func(ctx context.Context, d *devicekey.Device) error {
		entries, err := d.ListKeys(ctx)
		if errors.Is(err, plugins.ErrUnsupported) {
			return &cannotList{where: where, plugin: d.Name(), protocol: d.Info.ProtocolVersion, err: err}
		}
		if err != nil {
			return fmt.Errorf("list keys on %s: %w", where, err)
		}
		list := keyList{Device: where, Plugin: d.Info.Name + " " + d.Info.Version, Keys: make([]listedKey, 0, len(entries))}
		for _, k := range entries {
			lk := listedKey{URI: withPINSource(k.URI, u), Label: k.Label, Attributes: k.Attributes}
			if !k.Created.IsZero() {
				lk.Created = k.Created.UTC().Format(time.RFC3339)
			}
			list.Keys = append(list.Keys, lk)
		}
		if in.json {
			out, err := json.MarshalIndent(list, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", out)
			return err
		}
		return writeKeyTable(e.stdout, list.Keys)
	})
}

// withPINSource adds the pin-source of the URI the user gave to a listed key's URI, which
// the plugin gives without one, so that the listed URI works as it is. A pin-source names a
// file or a program, never the PIN; a pin-value is never copied.
func withPINSource(listed string, given *keyuri.URI) string {
	src, ok := given.QueryAttr(keyuri.PINSource)
	if !ok {
		return listed
	}
	u, err := keyuri.Parse(listed)
	if err != nil {
		return listed
	}
	if _, has := u.QueryAttr(keyuri.PINSource); has {
		return listed
	}
	if _, has := u.QueryAttr(keyuri.PINValue); has {
		return listed
	}
	u.Query = append(u.Query, keyuri.Attr{Name: keyuri.PINSource, Value: src})
	return u.String()
}

// writeKeyTable prints URI, LABEL and CREATED columns; an unknown date is "-".
func writeKeyTable(w io.Writer, keys []listedKey) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "URI\tLABEL\tCREATED")
	for _, k := range keys {
		label, created := k.Label, k.Created
		if label == "" {
			label = "-"
		}
		if created == "" {
			created = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.URI, label, created)
	}
	return tw.Flush()
}

// cannotList is the one line for a plugin without ListKeys. It is ErrUnsupported for
// errors.Is, and says what to do instead rather than repeat the plugin's "not supported":
// rebuild a plugin made before protocol 1.3, name keys by hand for a backend that cannot.
type cannotList struct {
	where, plugin, protocol string
	err                     error
}

func (e *cannotList) Error() string {
	if before13(e.protocol) {
		return fmt.Sprintf("list keys on %s: the %s plugin was built for plugin protocol %s, before ListKeys (1.3); rebuild it against this awskeep's plugins module, or name each key by its URI", e.where, e.plugin, e.protocol)
	}
	return fmt.Sprintf("list keys on %s: the %s backend cannot list keys (its plugin does not offer ListKeys, an optional operation of plugin protocol 1.3); name each key by its URI, as the device's own tools show it", e.where, e.plugin)
}

// before13 reports whether a plugin's protocol version 1.N has N < 3.
func before13(version string) bool {
	_, minor, ok := strings.Cut(version, ".")
	n, err := strconv.Atoi(minor)
	return ok && err == nil && n < 3
}

func (e *cannotList) Unwrap() error { return e.err }
