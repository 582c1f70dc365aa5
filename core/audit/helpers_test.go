package audit

import (
	"time"

	"github.com/awskeep/awskeep/plugins"
)

// chain builds a log the way the device does: entries numbered on from prev, each digest
// linking to the one before.
type chain struct {
	next uint16
	last [plugins.AuditLogDigestSize]byte
}

func (c *chain) add(cmd byte, session, target uint16, ok bool, tick uint32) plugins.AuditLogEntry {
	e := plugins.AuditLogEntry{Number: c.next, Command: cmd, SessionKey: session, TargetKey: target, SecondKey: NoKey, Tick: tick, Result: 0x7f}
	if ok {
		e.Result = cmd | resultFlag
	}
	if cmd == CmdBoot {
		e = plugins.AuditLogEntry{Number: c.next, Command: CmdBoot, SessionKey: NoKey}
	}
	e.Digest = plugins.AuditLogDigest(e.Bytes()[:16], c.last)
	c.next++
	c.last = e.Digest
	return e
}

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
