package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/awskeep/awskeep/plugins"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise it comes
// from the module's build information.
var version = ""

func runVersion(_ context.Context, args []string, e *env) error {
	fs := newFlagSet("version", e)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	_, err := fmt.Fprintf(e.stdout, "awskeep %s (plugin protocol %s, %s %s/%s)\n", v, plugins.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
