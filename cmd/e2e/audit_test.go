package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/sim"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// `awskeep audit` end to end: the built awskeep and awskeep-plugin-yubihsm against the
// YubiHSM 2 simulator, served in this process on a local port so that the test can alter an
// entry in its Log Store as an attacker would. The device runs on the real clock, so that
// awskeep's anchors (this machine's clock) and the device's ticks agree.

// auditDevice is a user whose YubiHSM 2 audits SIGN_HMAC and GET_OBJECT_INFO, with alice's
// key at yubiObject.
type auditDevice struct {
	*yubiUser
	dev *sim.Device
	c   *yubihsm.Client // the test's own session, as another program on the machine
}

func newAuditDevice(t *testing.T) *auditDevice {
	t.Helper()
	buildYubiHSM(t)
	u := newUser(t)
	yu := &yubiUser{user: u, pwFile: filepath.Join(u.home, "yubihsm-password")}
	if err := os.WriteFile(yu.pwFile, []byte(yubiPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.secrets = append(u.secrets, yubiPassword)
	dev, err := sim.New(func(o *sim.Options) { o.Password = yubiPassword })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Listen(dev, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	yu.addr = srv.Addr()
	a := &auditDevice{yubiUser: yu, dev: dev, c: yu.client(t)}
	// As docs/audit.md tells operators: audit SIGN_HMAC, and GET_OBJECT_INFO for the anchors.
	if err := a.c.SetCommandAudit(context.Background(), map[yubihsm.Command]yubihsm.Audit{
		yubihsm.CmdSignHMAC: yubihsm.AuditOn, yubihsm.CmdGetObjectInfo: yubihsm.AuditOn,
	}); err != nil {
		t.Fatal(err)
	}
	yu.importAlice(t)
	return a
}

// audit runs awskeep audit on alice's key with args, in UTC.
func (a *auditDevice) audit(args ...string) result {
	a.t.Helper()
	return a.run("", []string{"TZ=UTC"}, append([]string{"audit", "--key", a.uri(yubiObject)}, args...)...)
}

// sign has the device sign with alice's key outside awskeep, and returns the entry's number.
func (a *auditDevice) sign(t *testing.T) {
	t.Helper()
	if _, err := a.c.SignHMAC(context.Background(), 0x0010, []byte("20261130")); err != nil {
		t.Fatal(err)
	}
}

// window is a working-hours window from now+from to now+to, in UTC.
func window(from, to time.Duration) string {
	now := time.Now().UTC()
	return now.Add(from).Format("15:04") + "-" + now.Add(to).Format("15:04")
}

type auditJSON struct {
	Signings []struct {
		Entry   uint16     `json:"entry"`
		Time    *time.Time `json:"time"`
		Key     uint16     `json:"key"`
		OK      bool       `json:"ok"`
		Outside bool       `json:"outside_hours"`
	} `json:"signings"`
	Tampered *struct {
		Entry uint16 `json:"entry"`
	} `json:"tampered"`
	Alerts []string `json:"alerts"`
}

func parseAudit(t *testing.T, r result) auditJSON {
	t.Helper()
	var out auditJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("audit --json printed %q: %v", r.stdout, err)
	}
	return out
}

func TestAuditYubiHSM(t *testing.T) {
	a := newAuditDevice(t)
	// A signing through awskeep itself: credential-process asks the device for kDate.
	a.assumeRole(t, a.uri(yubiObject))
	signedAt := time.Now()

	t.Run("signing outside the hours exits 3 and names it", func(t *testing.T) {
		r := a.audit("--outside-hours", window(2*time.Hour, 4*time.Hour))
		if r.code != 3 {
			t.Fatalf("exit %d, want 3\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "SIGN_HMAC key 0x0010") || !strings.Contains(r.stdout, "OUTSIDE") {
			t.Fatalf("report does not name the signing:\n%s", r.stdout)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "awskeep: audit yubihsm:") || !strings.Contains(lines[0], "signing outside") ||
			!strings.Contains(lines[0], "key 0x0010") || !strings.Contains(lines[0], "entry ") {
			t.Fatalf("stderr is not one line naming the signing:\n%s", r.stderr)
		}
		// Its time is the signing's, within what the tick rate and the anchor allow.
		j := parseAudit(t, a.audit("--json", "--outside-hours", window(2*time.Hour, 4*time.Hour)))
		if len(j.Signings) != 1 || !j.Signings[0].Outside || j.Signings[0].Time == nil || j.Signings[0].Time.Sub(signedAt).Abs() > 5*time.Second {
			t.Fatalf("signings %+v, want one outside at about %v", j.Signings, signedAt)
		}
	})

	t.Run("signings inside the hours exit 0", func(t *testing.T) {
		r := a.audit("--outside-hours", window(-time.Hour, time.Hour))
		mustSucceed(t, r, "audit")
		if !strings.Contains(r.stdout, "SIGN_HMAC key 0x0010") || !strings.Contains(r.stdout, "0 signings outside") || r.stderr != "" {
			t.Fatalf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	})

	t.Run("--since filters", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond)
		cut := time.Now().UTC()
		time.Sleep(100 * time.Millisecond)
		a.sign(t)
		all := parseAudit(t, a.audit("--json"))
		recent := parseAudit(t, a.audit("--json", "--since", cut.Format(time.RFC3339Nano)))
		if len(all.Signings) != 2 || len(recent.Signings) != 1 || recent.Signings[0].Entry != all.Signings[1].Entry {
			t.Fatalf("all %+v, since %v %+v", all.Signings, cut, recent.Signings)
		}
		if r := a.audit("--since", "yesterday-ish"); r.code != 2 {
			t.Fatalf("bad --since: exit %d, stderr %s", r.code, r.stderr)
		}
	})

	t.Run("reading the log does not disturb signing", func(t *testing.T) {
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var signErr error
		signed := 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && signed < 40 {
				if _, err := a.c.SignHMAC(context.Background(), 0x0010, []byte("20261130")); err != nil {
					signErr = err
					return
				}
				signed++
				time.Sleep(20 * time.Millisecond)
			}
		}()
		for i := 0; i < 3; i++ {
			r := a.audit()
			if r.code != 0 {
				stop()
				wg.Wait()
				t.Fatalf("audit %d while signing: exit %d\nstdout: %s\nstderr: %s", i, r.code, r.stdout, r.stderr)
			}
		}
		stop()
		wg.Wait()
		if signErr != nil || signed == 0 {
			t.Fatalf("signing while auditing: %d signings, %v", signed, signErr)
		}
		// Credentials through awskeep still work after the reads.
		a.assumeRole(t, a.uri(yubiObject))
		mustSucceed(t, a.audit(), "audit after")
	})

	t.Run("a tampered entry is reported with its number", func(t *testing.T) {
		a.sign(t)
		l, err := a.c.GetLogEntries(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var victim uint16
		for _, e := range l.Entries {
			if e.Command == yubihsm.CmdSignHMAC {
				victim = e.Number
			}
		}
		if victim == 0 || !a.dev.TamperLogEntry(victim) {
			t.Fatalf("no SIGN_HMAC entry to alter in %d entries", len(l.Entries))
		}
		r := a.audit()
		if r.code != 3 || !strings.Contains(r.stdout, fmt.Sprintf("TAMPERED: entry %d:", victim)) ||
			!strings.Contains(r.stderr, fmt.Sprintf("tampering: entry %d:", victim)) {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if j := parseAudit(t, a.audit("--json")); j.Tampered == nil || j.Tampered.Entry != victim {
			t.Fatalf("JSON tampered = %+v", j.Tampered)
		}
	})
}

// Backends without an audit log say so in one line, naming where to look instead.
func TestAuditUnsupported(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	r := u.run("", nil, "audit", "--key", u.keyURI("prod"))
	mustFailClearly(t, r, "keeps no audit log", "docs/audit.md")
	r = u.run("", nil, "audit", "--key", u.keyURI("prod"), "--outside-hours", "9-5")
	mustFailUsage(t, r, "--outside-hours")
}

// Force audit: once the Log Store is full the device refuses to sign, credential-process
// says how to go on, and awskeep audit --mark-read reads, verifies and releases the log so
// that signing works again.
func TestAuditForceAuditMarkRead(t *testing.T) {
	a := newAuditDevice(t)
	ctx := context.Background()
	if err := a.c.SetForceAudit(ctx, yubihsm.AuditOn); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := a.c.SignHMAC(ctx, 0x0010, []byte("20261130"))
		if errors.Is(err, yubihsm.ErrLogFull) {
			break
		}
		if err != nil || i > yubihsm.LogSize {
			t.Fatalf("signing %d under force audit: %v", i, err)
		}
	}
	r := a.run("", nil, yubiCredentialProcessArgs(a.uri(yubiObject))...)
	mustFailClearly(t, r, "log full", "awskeep audit --mark-read")

	r = a.audit("--mark-read")
	mustSucceed(t, r, "audit --mark-read")
	if !strings.Contains(r.stdout, "entries 1 to 62") || !strings.Contains(r.stdout, "no fresh time anchor") {
		t.Fatalf("report of a full log:\n%s", r.stdout)
	}
	a.assumeRole(t, a.uri(yubiObject))
	r = a.audit()
	mustSucceed(t, r, "audit after release")
	if !strings.Contains(r.stdout, "hash chain verified from the previous audit (entry 62)") {
		t.Fatalf("the chain does not continue across the release:\n%s", r.stdout)
	}
}

// Without force audit the Log Store is a ring of 62: entries overwritten before any run
// read them are reported as lost, with exit 3.
func TestAuditLostEntries(t *testing.T) {
	a := newAuditDevice(t)
	mustSucceed(t, a.audit(), "first audit")
	for range yubihsm.LogSize + 5 {
		a.sign(t)
	}
	r := a.audit()
	if r.code != 3 || !strings.Contains(r.stdout, "LOST: entries") || !strings.Contains(r.stderr, "were overwritten before they were read") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// A wrong password stops audit at the first refusal: one session attempt, not one for the
// anchor and another for the log.
func TestAuditWrongPasswordNotRetried(t *testing.T) {
	a := newAuditDevice(t)
	wrong := filepath.Join(a.home, "wrong-password")
	if err := os.WriteFile(wrong, []byte("not the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := a.dev.Stats().Commands[yubihsm.CmdCreateSession]
	r := a.run("", []string{"TZ=UTC"}, "audit", "--key", a.uri(yubiObject, "pin-source=file:"+wrong))
	mustFailClearly(t, r, "not retried")
	if n := a.dev.Stats().Commands[yubihsm.CmdCreateSession] - before; n != 1 {
		t.Fatalf("%d CREATE_SESSION with a wrong password, want 1", n)
	}
}
