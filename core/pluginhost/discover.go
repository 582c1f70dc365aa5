package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Prefix starts the file name of every plugin: the plugin for scheme S is Prefix+S.
const Prefix = "awskeep-plugin-"

// DirEnv is the environment variable naming a plugin directory.
const DirEnv = "AWSKEEP_PLUGIN_DIR"

// Options say where plugins are and how to start them.
type Options struct {
	// Dir is --plugin-dir, searched first.
	Dir string
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Executable returns the host's own path; default os.Executable.
	Executable func() (string, error)
	// PinFile holds pinned checksums (see LoadPins); "" means none are pinned.
	PinFile string
}

func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Executable == nil {
		o.Executable = os.Executable
	}
}

// SearchPath returns the plugin directories in order, first match wins: --plugin-dir,
// $AWSKEEP_PLUGIN_DIR, the directory of the awskeep executable,
// $XDG_DATA_HOME/awskeep/plugins (default ~/.local/share/awskeep/plugins),
// /usr/local/lib/awskeep/plugins, /usr/lib/awskeep/plugins.
func SearchPath(opts Options) []string {
	opts.defaults()
	var dirs []string
	add := func(d string) {
		if d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	add(opts.Dir)
	add(opts.Getenv(DirEnv))
	if exe, err := opts.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		add(filepath.Dir(exe))
	}
	if data := opts.Getenv("XDG_DATA_HOME"); data != "" {
		add(filepath.Join(data, "awskeep", "plugins"))
	} else if home := opts.Getenv("HOME"); home != "" {
		add(filepath.Join(home, ".local", "share", "awskeep", "plugins"))
	}
	add("/usr/local/lib/awskeep/plugins")
	add("/usr/lib/awskeep/plugins")
	return dirs
}

// ErrNotFound means no plugin binary serves the scheme.
var ErrNotFound = errors.New("no plugin found")

// Find returns the path of the plugin named name (awskeep-plugin-NAME) in the search path.
func Find(name string, opts Options) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("%w: %q is not a valid plugin name", ErrNotFound, name)
	}
	dirs := SearchPath(opts)
	for _, d := range dirs {
		p := filepath.Join(d, Prefix+name)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w for scheme %q: %s%s is not in %s (install it there or pass --plugin-dir)",
		ErrNotFound, name, Prefix, name, strings.Join(dirs, ", "))
}

// Installed lists the plugins in the search path, first match per name.
func Installed(opts Options) []string {
	seen := map[string]bool{}
	var paths []string
	for _, d := range SearchPath(opts) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), Prefix)
			if !ok || seen[name] || !validName(name) {
				continue
			}
			if fi, err := os.Stat(filepath.Join(d, e.Name())); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			seen[name] = true
			paths = append(paths, filepath.Join(d, e.Name()))
		}
	}
	return paths
}

// validName keeps scheme names from escaping the plugin directory.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '+') {
			return false
		}
	}
	return !strings.Contains(name, "..")
}
