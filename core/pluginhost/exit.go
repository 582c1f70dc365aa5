package pluginhost

import (
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// waitExitReason gives a dying plugin up to a second to be reaped, so that its signal can
// be named, and returns how it ended ("" if it is still running).
func waitExitReason(p *plugins.Plugin) string {
	for range 100 {
		if p.Exited() {
			return p.ExitReason()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// CrashReason returns how p ended after a call failed with plugins.ErrPluginUnavailable,
// or "" if it is still running.
func CrashReason(p *plugins.Plugin) string { return waitExitReason(p) }
