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
	// Launch checks the binary again on the file it opens, computes the pinned checksum
	// over that file and executes that file, never the name: a binary swapped in after
	// the check above cannot run.
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
		if errors.Is(err, plugins.ErrUnsafeFile) {
			// Changed since CheckPermissions looked: Launch checks the file it executes.
			return nil, plugins.Info{}, refusal("plugin", path, err)
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
	if _, minor, _ := strings.Cut(info.ProtocolVersion, "."); logger != nil && (minor == "0" || minor == "1") {
		// Built before protocol 1.2, its side of the plugin channel admits any process of
		// this user that reaches the socket (see plugins, channel_linux.go).
		logger.Warn("plugin built for protocol "+info.ProtocolVersion+" does not check who connects to it; rebuild it against this awskeep's plugins module ("+plugins.ProtocolVersion+")", "plugin", name)
	}
	if scheme != "" && !slices.Contains(info.Schemes, scheme) {
		p.Close()
		return nil, plugins.Info{}, fmt.Errorf("plugin %s does not serve scheme %q (it serves %s)", path, scheme, strings.Join(info.Schemes, ", "))
	}
	return p, info, nil
}

// CheckPermissions refuses a plugin binary that someone other than its owner (or root)
// could have written or replaced, OpenSSH StrictModes style (plugins.OpenTrusted): the
// binary must be a regular, executable file owned by root or the current user and not
// writable by group or others, and so must every directory on the way to it, with symlinks
// resolved: both the directories holding a symlink and those of its target. A directory
// with the sticky bit, like /tmp (mode 1777), may be writable by others: there they cannot
// rename or replace entries they do not own.
//
// plugins.Launch makes the same checks again, on the very file it executes; this one gives
// the early answer for commands that only look (doctor, plugins pin).
func CheckPermissions(path string) error {
	f, err := plugins.OpenTrusted(path)
	if err != nil {
		return refusal("plugin", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: %s is not executable; run chmod u+x %s", ErrUnsafe, f.Name(), f.Name())
	}
	return nil
}

// refusal turns an error of plugins.OpenTrusted (or of plugins.Launch, which uses it) for
// what ("plugin", "plugin pin file") at path into ErrUnsafe with the reason, or into a
// plain error when the file cannot be read at all.
func refusal(what, path string, err error) error {
	var unsafe *plugins.UnsafeFileError
	if errors.As(err, &unsafe) {
		if what == "plugin" {
			return fmt.Errorf("%w: %s", ErrUnsafe, unsafe)
		}
		if !unsafe.Dir {
			return fmt.Errorf("%w: %s %s", ErrUnsafe, what, unsafe) // it names the file
		}
		return fmt.Errorf("%w: %s %s: %s", ErrUnsafe, what, path, unsafe)
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
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
