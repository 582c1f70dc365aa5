package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/faultmodule"
)

// faultyKey is the URI of object on f's token through the fault shim, with f's pin-source.
func (f *faultyUser) faultyKey(object string) string {
	return strings.Replace(f.user.keyURI(object), "module-path=/usr/lib/softhsm/libsofthsm2.so", "module-path="+f.so(), 1)
}

// so is the shim's path, taken from the URI newFaultyUser made.
func (f *faultyUser) so() string {
	_, rest, _ := strings.Cut(f.key, "module-path=")
	so, _, _ := strings.Cut(rest, "&")
	return so
}

// holder says whose secret the key holds, alice's or mallory's, by asking moto's STS with
// each user's access key id: a signature moto accepts proves the secret. Mallory may call
// nothing, so her request fails, but with AccessDenied (the signature was good), not
// SignatureDoesNotMatch.
func (f *faultyUser) holder(t *testing.T, key string) string {
	t.Helper()
	cp := func(akid string) result {
		return f.run("", "credential-process", "--key", key, "--access-key-id", akid,
			"--endpoint-url", world.server.URL, "--no-cache")
	}
	ra := cp(world.alice.AccessKeyID)
	if ra.code == 0 {
		return "alice"
	}
	rm := cp(world.mallory.AccessKeyID)
	t.Logf("credential-process with mallory's access key id: exit %d %s", rm.code, strings.TrimSpace(rm.stderr))
	if rm.code == 0 || strings.Contains(rm.stderr, "AccessDenied") && !strings.Contains(rm.stderr, "SignatureDoesNotMatch") {
		return "mallory"
	}
	t.Fatalf("credential-process works with neither key:\nas alice: %s\nas mallory: %s", ra.stderr, rm.stderr)
	return ""
}

// describeOne runs keys describe and checks that the URI names exactly one key.
func (f *faultyUser) describeOne(t *testing.T, key string) map[string]any {
	t.Helper()
	r := f.run("", "keys", "describe", "--key", key)
	mustSucceed(t, r, "keys describe after the interrupted import")
	var d map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("keys describe printed %q: %v", r.stdout, err)
	}
	if d["exists"] != true {
		t.Fatalf("keys describe says no key: %s", r.stdout)
	}
	return d
}

// TestHardeningImportForceInterrupted interrupts `import --force` (alice's key replaced by
// mallory's) at each step a token can stop at: the check of the new key, its renames, the
// deletion of the old key, and a crash. The command must fail with one line that says the
// device may or may not hold the new key and names keys describe; afterwards the URI must
// name exactly one key (describe works, no "keys match"), and credential-process must work
// with the old or the new secret.
func TestHardeningImportForceInterrupted(t *testing.T) {
	f := newFaultyUser(t)
	tests := []struct {
		name  string
		fault faultmodule.Fault
		want  []string
	}{
		{"check of the new key hangs", faultmodule.Hang, []string{"the device did not answer in time"}},
		{"rename held", faultmodule.HoldSetAttribute, []string{"the device did not answer in time"}},
		{"deletion of the old key held", faultmodule.HoldDestroy, []string{"the device did not answer in time"}},
		{"plugin crashes in the check", faultmodule.SegV, []string{"plugin pkcs11 crashed (SIGSEGV) during import"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := f.faultyKey("force" + string(rune('a'+i)))
			mustSucceed(t, f.run(world.alice.SecretAccessKey+"\n", "import", "--key", key), "first import")

			f.ctl.Set(tt.fault)
			r := f.run(world.mallory.SecretAccessKey+"\n", "import", "--force", "--key", key, "--timeout", "3s")
			f.ctl.Set(faultmodule.None)
			t.Logf("import --force said: %s", r.stderr)
			mustFailClearly(t, r, append([]string{"it may or may not hold the new key",
				"check with awskeep keys describe --key 'pkcs11:"}, tt.want...)...)
			if strings.Contains(r.stderr, "timed out") || strings.Contains(r.stderr, "context deadline exceeded") {
				t.Errorf("the error reads as a plain timeout: %s", r.stderr)
			}
			noPluginLeft(t)

			f.describeOne(t, key)
			got := f.holder(t, key)
			t.Logf("after the interruption the key holds %s's secret", got)
			// Every fault here stops the sequence before the old key is deleted.
			if got != "alice" {
				t.Errorf("the key holds %s's secret, want alice's (the old key: the replacement was stopped before deleting it)", got)
			}

			// The next import --force finishes the job and leaves one key.
			mustSucceed(t, f.run(world.mallory.SecretAccessKey+"\n", "import", "--force", "--key", key), "import --force again")
			if d := f.describeOne(t, key); d["attributes"].(map[string]any)["interrupted-import"] != nil {
				t.Errorf("keys describe still reports an interrupted import: %v", d)
			}
			if got := f.holder(t, key); got != "mallory" {
				t.Errorf("after import --force again the key holds %s's secret, want mallory's", got)
			}
		})
	}
}

// TestHardeningImportForceFinishesAfterDeadline: the host's deadline passes while the
// token is deleting the old key. The host still reports the uncertain state, but the
// plugin, asked to exit, lets the replacement finish first: the key is mallory's, and the
// URI names exactly one key.
func TestHardeningImportForceFinishesAfterDeadline(t *testing.T) {
	f := newFaultyUser(t)
	key := f.faultyKey("late")
	mustSucceed(t, f.run(world.alice.SecretAccessKey+"\n", "import", "--key", key), "first import")

	f.ctl.Set(faultmodule.HoldDestroy)
	defer f.ctl.Set(faultmodule.None)
	cmd := exec.Command(awskeep, "--debug", "import", "--force", "--key", key, "--timeout", "2s")
	cmd.Env = f.environ(f.ctl.Environ()...)
	cmd.Stdin = strings.NewReader(world.mallory.SecretAccessKey + "\n")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The plugin logs (at debug, which the host shows with --debug) when the host asks it
	// to exit during a replacement: that is after the host's deadline.
	var log bytes.Buffer
	waiting := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(io.TeeReader(stderr, &log))
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), "letting it finish") {
				found = true
				waiting <- true
			}
		}
		if !found {
			waiting <- false
		}
	}()
	select {
	case ok := <-waiting:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("the plugin never said it lets the replacement finish; stderr:\n%s", log.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the import never reached its deadline")
	}
	f.ctl.Set(faultmodule.None) // the token answers again
	err = cmd.Wait()
	out := log.String()
	f.user.checkNoSecrets(stdout.String()+out, f.secrets, "awskeep --debug import --force")
	if code := cmd.ProcessState.ExitCode(); code != 1 || stdout.Len() != 0 {
		t.Fatalf("exit %d (%v), stdout %q; want 1 and nothing", code, err, stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "awskeep: ") || !strings.Contains(last, "it may or may not hold the new key") ||
		!strings.Contains(last, "keys describe") {
		t.Fatalf("last stderr line %q does not report the uncertain state", last)
	}
	noPluginLeft(t)

	d := f.describeOne(t, key)
	if d["attributes"].(map[string]any)["interrupted-import"] != nil {
		t.Errorf("keys describe reports an interrupted import after it finished: %v", d)
	}
	if got := f.holder(t, key); got != "mallory" {
		t.Errorf("the key holds %s's secret, want mallory's: the plugin should have finished the replacement", got)
	}
}
