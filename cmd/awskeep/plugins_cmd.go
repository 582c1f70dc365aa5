package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/awskeep/awskeep/core/pluginhost"
)

// pluginsInput is what `awskeep plugins list|pin` take.
type pluginsInput struct {
	pluginDir string
	timeout   time.Duration
}

func (in *pluginsInput) parse(name string, args []string, e *env) error {
	fs := newFlagSet(name, e)
	fs.StringVar(&in.pluginDir, "plugin-dir", "", "directory searched first for awskeep-plugin-* binaries")
	fs.DurationVar(&in.timeout, "timeout", 30*time.Second, "bound on the whole command")
	return parseFlags(fs, args, e)
}

// runPluginsList starts each installed plugin once to ask its version and schemes, and
// prints them with each binary's sha256.
func runPluginsList(ctx context.Context, args []string, e *env) error {
	var in pluginsInput
	if err := in.parse("plugins list", args, e); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, in.timeout)
	defer cancel()
	opts := pluginhost.Options{Dir: in.pluginDir, Getenv: e.getenv, PinFile: pinFile(e)}
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

// runPluginsPin writes the pin file with the sha256 of every installed plugin.
func runPluginsPin(ctx context.Context, args []string, e *env) error {
	var in pluginsInput
	if err := in.parse("plugins pin", args, e); err != nil {
		return err
	}
	path := pinFile(e)
	if path == "" {
		return fmt.Errorf("plugins pin: neither $XDG_CONFIG_HOME nor $HOME is set")
	}
	opts := pluginhost.Options{Dir: in.pluginDir, Getenv: e.getenv}
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
