package yubihsm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// The client's audit log commands against the simulator over HTTP: turn on auditing of
// SIGN_HMAC, sign, read and verify the log, release it, and hit LOG_FULL with force audit.
func TestClientAuditLog(t *testing.T) {
	f := start(t, "pw")
	c := f.client(t, 1, "pw")
	if err := c.SetCommandAudit(ctx, map[yubihsm.Command]yubihsm.Audit{yubihsm.CmdSignHMAC: yubihsm.AuditOn}); err != nil {
		t.Fatal(err)
	}
	m, err := c.CommandAudit(ctx)
	if err != nil || m[yubihsm.CmdSignHMAC] != yubihsm.AuditOn || m[yubihsm.CmdPutHMACKey] != yubihsm.AuditOff {
		t.Fatalf("CommandAudit = %v, %v", m, err)
	}
	id, err := c.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: 0x20, Label: "k", Domains: 1, Capabilities: yubihsm.CapSignHMAC}, []byte("AWS4secret"))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(90 * time.Second) // the client opens a new session: the old one expired
	if _, err := c.SignHMAC(ctx, id, []byte("20251130")); err != nil {
		t.Fatal(err)
	}
	l, err := c.GetLogEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
	last := l.Entries[len(l.Entries)-1]
	if last.Command != yubihsm.CmdSignHMAC || last.TargetKey != id || last.SessionKey != 1 || last.Tick != 90000 {
		t.Fatalf("last entry %+v, want SIGN_HMAC of %#x by key 1 at tick 90000", last, id)
	}
	if err := c.SetLogIndex(ctx, last.Number); err != nil {
		t.Fatal(err)
	}
	if err := c.SetForceAudit(ctx, yubihsm.AuditOn); err != nil {
		t.Fatal(err)
	}
	if a, err := c.ForceAudit(ctx); err != nil || a != yubihsm.AuditOn {
		t.Fatalf("ForceAudit = %v, %v", a, err)
	}
	for i := 0; ; i++ {
		_, err := c.SignHMAC(ctx, id, []byte("20251130"))
		if errors.Is(err, yubihsm.ErrLogFull) {
			break
		}
		if err != nil || i > yubihsm.LogSize {
			t.Fatalf("signing %d with force audit: %v", i, err)
		}
	}
	l2, err := c.GetLogEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l2.Entries) != yubihsm.LogSize {
		t.Fatalf("%d entries in a full log", len(l2.Entries))
	}
	if err := l2.Verify(&last); err != nil {
		t.Fatalf("chain from the released entry: %v", err)
	}
	if err := c.SetLogIndex(ctx, l2.Entries[len(l2.Entries)-1].Number); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignHMAC(ctx, id, []byte("20251130")); err != nil {
		t.Fatalf("signing after release: %v", err)
	}
}
