package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/awskeep/awskeep/core/pluginhost"
)

// defaultTimeout bounds all device and network work of one command (DESIGN.md).
const defaultTimeout = 30 * time.Second

// durationValue is a flag that takes a Go duration (1h, 90m) or a number of seconds (3600),
// as duration_seconds in a profile does.
type durationValue time.Duration

func (d *durationValue) String() string {
	if *d == 0 {
		return ""
	}
	return time.Duration(*d).String()
}

func (d *durationValue) Set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 || n > 1<<31 {
			return fmt.Errorf("%d seconds is not a duration awskeep can use", n)
		}
		*d = durationValue(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a duration such as 1h or 3600 (seconds)")
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) Type() string { return "duration" }

// hostFlags say where plugins are and bound the command.
type hostFlags struct {
	pluginDir string
	timeout   durationValue
}

func (h *hostFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&h.pluginDir, "plugin-dir", "", "directory searched first for awskeep-plugin-* binaries")
	h.timeout = durationValue(defaultTimeout)
	fs.Var(&h.timeout, "timeout", "bound on all device and network work: plugin start, device, STS (1m, 30s or seconds)")
}

func (h *hostFlags) options(e *env) pluginhost.Options {
	return pluginhost.Options{Dir: h.pluginDir, Getenv: e.getenv, PinFile: pinFile(e)}
}

// pinFile is where `awskeep plugins pin` records checksums: $XDG_CONFIG_HOME/awskeep/plugins.sha256.
func pinFile(e *env) string {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := e.getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "awskeep", "plugins.sha256")
}

// formatValue is a flag limited to a set of words.
type formatValue struct {
	value   string
	choices []string
}

func (f *formatValue) String() string { return f.value }
func (f *formatValue) Type() string   { return "format" }
func (f *formatValue) Set(s string) error {
	for _, c := range f.choices {
		if s == c {
			f.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.choices, ", "))
}
