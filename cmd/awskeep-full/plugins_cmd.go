package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/pluginhost"
)

func newPluginsListCommand(e *env) *cobra.Command {
	var h hostFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List installed plugins with their versions, schemes and checksums",
		Long:  "List the plugins found in the search path, starting each once to ask its version and the URI schemes it serves, with the sha256 of each binary.",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return pluginsList(cmd.Context(), h, e) },
	}
	h.bind(cmd.Flags())
	return cmd
}

func newPluginsPinCommand(e *env) *cobra.Command {
	var h hostFlags
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Record each plugin's sha256; a changed plugin is then refused",
		Long:  "Record the sha256 of every installed plugin in $XDG_CONFIG_HOME/awskeep/plugins.sha256. From then on a plugin whose binary changed is refused until you pin again.",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return pluginsPin(h, e) },
	}
	h.bind(cmd.Flags())
	return cmd
}

// pluginsList starts each installed plugin once to ask its version and schemes, and
// prints them with each binary's sha256.
func pluginsList(ctx context.Context, h hostFlags, e *env) error {
	ctx, cancel := context.WithTimeout(ctx, timeDuration(h.timeout))
	defer cancel()
	opts := h.options(e)
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tSCHEMES\tPATH\tSHA256")
	for _, path := range pluginhost.Installed(opts) {
		name := strings.TrimPrefix(filepath.Base(path), pluginhost.Prefix)
		sum, err := pluginhost.Checksum(path)
		if err != nil {
			sum = "unreadable: " + err.Error()
		}
		version, schemes := "-", "-"
		p, info, err := pluginhost.StartPath(ctx, path, "", e.logger, opts)
		if err != nil {
			version = "error: " + oneLine(err.Error())
		} else {
			version, schemes = info.Version, strings.Join(info.Schemes, ",")
			p.Close()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", name, version, schemes, path, sum)
	}
	return w.Flush()
}

// pluginsPin writes the pin file with the sha256 of every installed plugin.
func pluginsPin(h hostFlags, e *env) error {
	path := pinFile(e)
	if path == "" {
		return fmt.Errorf("plugins pin: neither $XDG_CONFIG_HOME nor $HOME is set")
	}
	opts := pluginhost.Options{Dir: h.pluginDir, Getenv: e.getenv}
	var lines []string
	for _, p := range pluginhost.Installed(opts) {
		if err := pluginhost.CheckPermissions(p); err != nil {
			return fmt.Errorf("plugins pin: %w", err)
		}
		sum, err := pluginhost.Checksum(p)
		if err != nil {
			return fmt.Errorf("plugins pin: %w", err)
		}
		lines = append(lines, sum+"  "+strings.TrimPrefix(filepath.Base(p), pluginhost.Prefix))
	}
	slices.Sort(lines)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("plugins pin: %w", err)
	}
	tmp := path + ".tmp"
	content := "# sha256 of each awskeep plugin; written by awskeep plugins pin\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("plugins pin: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("plugins pin: %w", err)
	}
	fmt.Fprintf(e.stdout, "pinned %d plugins in %s\n", len(lines), path)
	return nil
}
