package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/awskeep/awskeep/plugins"
)

// ErrUnsafe means a plugin binary was refused before it was started.
var ErrUnsafe = errors.New("plugin refused")

// Start finds the plugin for scheme, checks it, starts it and confirms through Info that it
// serves scheme with protocol 1. logger receives the plugin's own log lines at debug level.
func Start(ctx context.Context, scheme string, logger *slog.Logger, opts Options) (*plugins.Plugin, plugins.Info, error) {
	opts.defaults()
	path, err := Find(scheme, opts)
	if err != nil {
		return nil, plugins.Info{}, err
	}
	return StartPath(ctx, path, scheme, logger, opts)
}

// StartPath is Start for a known binary; scheme "" skips the scheme check.
func StartPath(ctx context.Context, path, scheme string, logger *slog.Logger, opts Options) (*plugins.Plugin, plugins.Info, error) {
	name := strings.TrimPrefix(filepath.Base(path), Prefix)
	if err := CheckPermissions(path); err != nil {
		return nil, plugins.Info{}, err
	}
	pins, err := LoadPins(opts.PinFile)
	if err != nil {
		return nil, plugins.Info{}, err
	}
	sum := pins[name]
	p, err := plugins.Launch(ctx, path, func(o *plugins.LaunchOptions) {
		o.Logger = hclogTo(logger, name)
		o.SHA256 = sum
		if deadline, ok := ctx.Deadline(); ok {
			o.StartTimeout = time.Until(deadline)
		}
	})
	if err != nil {
		if errors.Is(err, plugins.ErrChecksumMismatch) {
			return nil, plugins.Info{}, fmt.Errorf("%w: %s no longer matches its pinned sha256 in %s; if the change is intended, run awskeep plugins pin", ErrUnsafe, path, opts.PinFile)
		}
		return nil, plugins.Info{}, err
	}
	info, err := p.Info(ctx)
	if err != nil {
		p.Close()
		return nil, plugins.Info{}, fmt.Errorf("plugin %s: info: %w", name, err)
	}
	if major, _, _ := strings.Cut(info.ProtocolVersion, "."); major != "1" {
		p.Close()
		return nil, plugins.Info{}, fmt.Errorf("plugin %s speaks protocol %q; this awskeep speaks 1.x", name, info.ProtocolVersion)
	}
	if scheme != "" && !slices.Contains(info.Schemes, scheme) {
		p.Close()
		return nil, plugins.Info{}, fmt.Errorf("plugin %s does not serve scheme %q (it serves %s)", path, scheme, strings.Join(info.Schemes, ", "))
	}
	return p, info, nil
}

// CheckPermissions refuses a plugin binary that someone other than its owner (or root)
// could have replaced: writable by group or others, or owned by another user.
func CheckPermissions(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafe, path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o); run chmod go-w %s", ErrUnsafe, path, fi.Mode().Perm(), path)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: %s is not executable", ErrUnsafe, path)
	}
	if uid, ok := owner(fi); ok && uid != 0 && uid != os.Getuid() {
		return fmt.Errorf("%w: %s belongs to another user (uid %d)", ErrUnsafe, path, uid)
	}
	return nil
}

// Checksum returns the sha256 of the file at path, in hex.
func Checksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hclogTo sends go-plugin's log lines, which carry the plugin's stderr, to logger at debug.
func hclogTo(logger *slog.Logger, name string) hclog.Logger {
	if logger == nil {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "plugin." + name,
		Level:  hclog.Debug,
		Output: slogWriter{logger: logger, plugin: name},
	})
}

type slogWriter struct {
	logger *slog.Logger
	plugin string
}

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		if len(line) > 0 {
			w.logger.Debug(string(line), "plugin", w.plugin)
		}
	}
	return len(p), nil
}
