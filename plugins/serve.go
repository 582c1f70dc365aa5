package plugins

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ServeOptions modify Serve.
type ServeOptions struct {
	// Logger receives the SDK's own log lines. The default writes JSON to stderr, which the
	// host reads and files under the plugin's name. Never log to stdout: it carries the
	// go-plugin handshake.
	Logger hclog.Logger
	// ParentCheckInterval is how often the plugin checks that its host is still alive, so
	// that a host killed with SIGKILL leaves no orphan behind. Default 250ms.
	ParentCheckInterval time.Duration
}

// Serve runs b as an awskeep plugin and returns when the host ends it. Call it from main and
// do nothing else there that prints to stdout:
//
//	func main() { plugins.Serve(mybackend.New()) }
//
// Run by hand instead of by a host, the binary prints a short notice and exits with status 1.
//
// Serve first hardens the process (on Linux): no core file (RLIMIT_CORE 0) and not dumpable
// (prctl PR_SET_DUMPABLE 0: no core either, no ptrace and no /proc/PID/mem for other
// processes of the same user), so that a crashing plugin leaves nothing holding a PIN.
func Serve(b Backend, optFns ...func(*ServeOptions)) {
	// First of all, before the backend or its vendor library holds a PIN or key material:
	// no core file, and no reading of this process's memory by others.
	hardenErr := hardenProcess()
	// Run by hand with --version (as an operator checks an installed plugin): the build,
	// and nothing else. The host never passes arguments.
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(VersionLine(filepath.Base(os.Args[0])))
		os.Exit(0)
	}
	opts := ServeOptions{ParentCheckInterval: 250 * time.Millisecond}
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{
			Output: os.Stderr, JSONFormat: true, Level: hclog.Info,
		})
	}
	if hardenErr != nil {
		opts.Logger.Warn("harden plugin process", "error", hardenErr)
	}
	guardStdout()
	go exitWithParent(opts.ParentCheckInterval)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(b),
		GRPCServer:       pluginGRPCServer,
		Logger:           opts.Logger,
	})
	// The host ended the plugin gracefully: let the backend release what the device keeps
	// for it (a YubiHSM 2 has 16 sessions, held for 30 s after a client vanishes).
	if c, ok := b.(Closer); ok {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			opts.Logger.Warn("close backend", "error", err)
		}
	}
}

// Closer is implemented by backends that hold device resources (sessions, handles) to
// release when the host ends the plugin. Serve calls Close once, after the last call.
type Closer interface {
	Close(ctx context.Context) error
}

// closeTimeout bounds Closer.Close: go-plugin kills a plugin that has not exited two
// seconds after the host asked it to.
const closeTimeout = 1500 * time.Millisecond

// exitWithParent ends the plugin when its parent goes away (go-plugin issues 10, 114, 210):
// the process is then re-parented, and its parent pid changes. The host also asks the kernel
// for a death signal where it can (Linux Pdeathsig); this covers hosts that do not.
func exitWithParent(interval time.Duration) {
	parent := os.Getppid()
	for range time.Tick(interval) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}
