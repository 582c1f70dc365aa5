package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/core/rotate"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// TestRotate: a rotation from start to end, then a second one with --keep-old; the cache
// of the old key is dropped; the new secret is nowhere; --debug logs hold no secret.
func TestRotate(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-a"})
	ru := newRotUser(t, m, "rot-a")
	ru.profileWorks(t, "before the rotation")
	// A cached credential of the old key, which the rotation must drop.
	mustSucceed(t, ru.run("", nil, "credential-process", "--profile", "rot"), "credential-process (cached)")
	cacheDir := filepath.Join(ru.home, ".cache", "awskeep")
	if !dirHolds(t, cacheDir, ru.oldID) {
		t.Fatal("the cache holds no entry of the old key before the rotation")
	}

	r := ru.rotate(t, nil, "--debug")
	newID := rotatedLine(t, r, ru.oldID)
	ru.checkRotated(t, ru.oldID, newID, false, r)
	if dirHolds(t, cacheDir, ru.oldID) {
		t.Fatal("the cache still holds an entry of the old key")
	}
	if !strings.Contains(r.stderr, "rotation step done") {
		t.Fatalf("--debug logged no steps:\n%s", r.stderr)
	}

	// Again, keeping the old key: prod-r2 -> prod-r3, prod-r2's key Inactive and kept. This
	// time through the release binaries (the front, then awskeep-full without the test
	// hook), where the crash variable must do nothing.
	r = ru.run("", []string{crashEnv + "=" + rotate.StepBegun}, "rotate", "--profile", "rot", "--keep-old")
	third := rotatedLine(t, r, newID)
	if !strings.Contains(r.stdout, newID+" is inactive") {
		t.Fatalf("--keep-old does not say the old key is kept: %q", r.stdout)
	}
	keys := m.keys(t, "rot-a")
	if len(keys) != 2 || keys[third] != "Active" || keys[newID] != "Inactive" {
		t.Fatalf("IAM keys after --keep-old = %v", keys)
	}
	if !ru.keyExists(t, "prod-r2") || !ru.keyExists(t, "prod-r3") {
		t.Fatal("--keep-old did not keep the old object, or the new one is missing")
	}
	id, uri := ru.profileKey(t)
	if id != third || !strings.Contains(uri, "object=prod-r3?") {
		t.Fatalf("profile names %s at %s after the second rotation", id, uri)
	}
	ru.profileWorks(t, "after --keep-old")
	// The kept key is refused (the shim, as AWS): nobody can use it by mistake.
	old := ru.run("", nil, "credential-process", "--key", ru.keyURI("prod-r2"), "--access-key-id", newID,
		"--endpoint-url", m.server.URL, "--no-cache")
	mustFailClearly(t, old, "InvalidClientTokenId")
}

// dirHolds reports whether a file under dir holds s.
func dirHolds(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), s) {
				found = true
			}
		}
		return nil
	})
	return found
}

// TestRotateKilledAfterEachStep: rotate is killed with SIGKILL after each step in turn (and
// between IAM's answer to CreateAccessKey and the journal, where the new secret is lost):
// the profile works at once, the next run finishes, and the user ends with exactly one
// access key, the new one, on object prod-r2.
func TestRotateKilledAfterEachStep(t *testing.T) {
	points := append([]string{"create-answered"}, rotate.Steps...)
	var specs []rotUserSpec
	for _, p := range points {
		specs = append(specs, rotUserSpec{name: "rot-" + p})
	}
	m := startRotMoto(t, specs...)
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			ru := newRotUser(t, m, "rot-"+point)
			killed := ru.rotate(t, []string{crashEnv + "=" + point})
			if killed.code != -1 || killed.stdout != "" {
				t.Fatalf("rotate was not killed after %s: exit %d, stdout %q, stderr %q", point, killed.code, killed.stdout, killed.stderr)
			}
			// The plugin does not outlive the killed host (it watches its parent).
			noPluginLeft(t)
			ru.profileWorks(t, "after the kill")
			keys := m.keys(t, "rot-"+point)
			active := 0
			for _, s := range keys {
				if s == "Active" {
					active++
				}
			}
			if active == 0 {
				t.Fatalf("no active key after the kill: %v", keys)
			}
			if len(ru.journals(t)) != 1 {
				t.Fatal("no journal after the kill")
			}
			r := ru.rotate(t, nil)
			newID := rotatedLine(t, r, ru.oldID)
			ru.checkRotated(t, ru.oldID, newID, false, killed, r)
		})
	}
}

// TestRotateRefusesTwoKeys: a user with two keys is refused, clearly, and nothing changes;
// with the other key Inactive, --delete-inactive deletes it and rotates; an Active one it
// does not touch.
func TestRotateRefusesTwoKeys(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-two", secondKey: true})
	ru := newRotUser(t, m, "rot-two")
	before := m.keys(t, "rot-two")
	var other string
	for id := range before {
		if id != ru.oldID {
			other = id
		}
	}
	config := ru.configText(t)
	for _, args := range [][]string{nil, {"--delete-inactive"}} {
		r := ru.rotate(t, nil, args...)
		want := []string{"two access keys", ru.oldID, other, "nothing changed"}
		if args == nil {
			want = append(want, "--delete-inactive", "aws iam delete-access-key --access-key-id "+other)
		} else {
			want = append(want, "deletes only an inactive key", "aws iam update-access-key --status Inactive")
		}
		mustFailClearly(t, r, want...)
		if got := m.keys(t, "rot-two"); len(got) != 2 || got[other] != "Active" || got[ru.oldID] != "Active" {
			t.Fatalf("refused rotate changed the keys: %v", got)
		}
		if ru.configText(t) != config || ru.keyExists(t, "prod-r2") || len(ru.journals(t)) != 0 {
			t.Fatal("refused rotate changed the config, the token or left a journal")
		}
	}
	if err := m.server.SetAccessKeyStatus(context.Background(), m.admin, "rot-two", other, "Inactive"); err != nil {
		t.Fatal(err)
	}
	r := ru.rotate(t, nil, "--delete-inactive")
	ru.checkRotated(t, ru.oldID, rotatedLine(t, r, ru.oldID), false, r)
}

// TestRotateAccessDenied: a user without IAM permissions is told which ones it needs, and
// nothing changes.
func TestRotateAccessDenied(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-denied", noIAM: true})
	ru := newRotUser(t, m, "rot-denied")
	config := ru.configText(t)
	r := ru.rotate(t, nil)
	mustFailClearly(t, r, "IAM ListAccessKeys: AccessDenied", "iam:CreateAccessKey", "docs/rotate.md", "nothing changed")
	if ru.configText(t) != config || len(ru.journals(t)) != 0 || len(m.keys(t, "rot-denied")) != 1 {
		t.Fatal("a refused rotate changed something")
	}
	ru.profileWorks(t, "after AccessDenied")
}

// TestRotateIAMUnreachableMidway: a rotation stopped after the import, resumed while IAM is
// unreachable ($AWS_ENDPOINT_URL_IAM names a closed port; STS still answers), gets as far
// as it can without IAM (verified, profile rewritten), says so and what to do; the profile
// works with the new key; run again with IAM back, it finishes.
func TestRotateIAMUnreachableMidway(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-net"})
	ru := newRotUser(t, m, "rot-net")
	killed := ru.rotate(t, []string{crashEnv + "=" + rotate.StepImported})
	if killed.code != -1 {
		t.Fatalf("rotate was not killed: %d %s", killed.code, killed.stderr)
	}
	r := ru.rotate(t, []string{"AWS_ENDPOINT_URL_IAM=" + closedPort(t)})
	mustFailClearly(t, r, "IAM UpdateAccessKey "+ru.oldID, "IAM unreachable", "the profile now uses the new key",
		"run awskeep rotate --profile rot again", "once IAM is reachable")
	id, _ := ru.profileKey(t)
	if id == ru.oldID {
		t.Fatal("the profile was not rewritten before the IAM step")
	}
	ru.profileWorks(t, "with IAM unreachable")
	done := ru.rotate(t, nil)
	ru.checkRotated(t, ru.oldID, rotatedLine(t, done, ru.oldID), false, killed, r, done)
}

// closedPort is an http URL on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestRotateConcurrent: two rotations of one profile at once take turns (the lock): both
// succeed, the second starting from the key the first made, and one key is left.
func TestRotateConcurrent(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-twice"})
	ru := newRotUser(t, m, "rot-twice")
	bin := buildRotateHooks(t)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ru.exec(bin, "", nil, "rotate", "--profile", "rot")
		}()
	}
	wg.Wait()
	var lines []string
	for _, r := range results {
		mustSucceed(t, r, "concurrent rotate")
		lines = append(lines, strings.TrimSpace(r.stdout))
	}
	// One went OLD -> A, the other A -> B.
	first, second := lines[0], lines[1]
	if !strings.HasPrefix(first, "rotated rot: "+ru.oldID+" ->") {
		first, second = second, first
	}
	a := strings.TrimPrefix(first, "rotated rot: "+ru.oldID+" -> ")
	if !strings.HasPrefix(second, "rotated rot: "+a+" -> ") {
		t.Fatalf("the rotations did not take turns: %q and %q", lines[0], lines[1])
	}
	b := strings.TrimPrefix(second, "rotated rot: "+a+" -> ")
	keys := m.keys(t, "rot-twice")
	if len(keys) != 1 || keys[b] != "Active" {
		t.Fatalf("IAM keys = %v, want only %s", keys, b)
	}
	if id, uri := ru.profileKey(t); id != b || !strings.Contains(uri, "object=prod-r3?") {
		t.Fatalf("profile names %s at %s", id, uri)
	}
	ru.profileWorks(t, "after two rotations")
}

// TestRotateKeyAppearedMeanwhile: a key someone else made while a rotation was
// interrupted is not taken for one the rotation lost: rotate refuses, names it and says
// what to do; once it is gone, the rotation finishes.
func TestRotateKeyAppearedMeanwhile(t *testing.T) {
	ctx := context.Background()
	m := startRotMoto(t, rotUserSpec{name: "rot-meanwhile"})
	ru := newRotUser(t, m, "rot-meanwhile")
	killed := ru.rotate(t, []string{crashEnv + "=" + rotate.StepBegun})
	if killed.code != -1 {
		t.Fatalf("rotate was not killed: %d %s", killed.code, killed.stderr)
	}
	other, err := m.server.CreateAccessKey(ctx, m.admin, "rot-meanwhile")
	if err != nil {
		t.Fatal(err)
	}
	ru.secrets = append(ru.secrets, other.SecretAccessKey)
	r := ru.rotate(t, nil)
	mustFailClearly(t, r, other.AccessKeyID, "rotate did not create it", "aws iam delete-access-key --access-key-id "+other.AccessKeyID,
		"the profile still uses "+ru.oldID)
	if keys := m.keys(t, "rot-meanwhile"); len(keys) != 2 || keys[other.AccessKeyID] != "Active" {
		t.Fatalf("rotate touched the other key: %v", keys)
	}
	ru.profileWorks(t, "after the refusal")
	if err := m.server.DeleteAccessKey(ctx, m.admin, "rot-meanwhile", other.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	done := ru.rotate(t, nil)
	ru.checkRotated(t, ru.oldID, rotatedLine(t, done, ru.oldID), false, killed, r, done)
}

// TestRotateDeviceFull: on a YubiHSM 2 (the simulator) with no room for another object,
// the import of the new secret fails; the new access key is deleted again, the profile is
// untouched and works, and the error says so and what to do. With room made, the rotation
// succeeds onto the next object id. (SoftHSM2 has no object limit to hit; the simulator
// refuses a 257th object with the device's "storage failed", as a YubiHSM 2 does.)
func TestRotateDeviceFull(t *testing.T) {
	ctx := context.Background()
	m := startRotMoto(t, rotUserSpec{name: "rot-full"})
	yu := newYubiUser(t)
	ru := newRotUserKey(t, m, "rot-full", yu.user, yu.uri(yubiObject))
	c := yu.client(t)
	filled := 0
	for id := uint16(0x0100); ; id++ {
		_, err := c.PutHMACKey(ctx, yubihsm.ObjectSpec{ID: id, Label: "filler", Domains: 1, Capabilities: yubihsm.CapSignHMAC}, []byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			if !errors.Is(err, yubihsm.ErrStorageFailed) {
				t.Fatalf("filling the device: %v", err)
			}
			break
		}
		filled++
	}
	if filled < 200 {
		t.Fatalf("the device took only %d objects before it was full", filled)
	}
	config := ru.configText(t)
	r := ru.rotate(t, nil)
	mustFailClearly(t, r, "import the new secret", "storage failed", "was deleted again", "still uses "+ru.oldID,
		"make room on the device", "run awskeep rotate --profile rot again")
	if keys := m.keys(t, "rot-full"); len(keys) != 1 || keys[ru.oldID] != "Active" {
		t.Fatalf("IAM keys after the failed import = %v, want only the old one", keys)
	}
	if ru.configText(t) != config {
		t.Fatal("the failed rotation changed the profile")
	}
	ru.profileWorks(t, "after the failed import")
	if err := c.DeleteObject(ctx, 0x0100, yubihsm.TypeHMACKey); err != nil {
		t.Fatal(err)
	}
	done := ru.rotate(t, nil)
	newID := rotatedLine(t, done, ru.oldID)
	if keys := m.keys(t, "rot-full"); len(keys) != 1 || keys[newID] != "Active" {
		t.Fatalf("IAM keys = %v, want only %s", keys, newID)
	}
	if id, uri := ru.profileKey(t); id != newID || !strings.Contains(uri, "object-id=0x0011?") {
		t.Fatalf("profile names %s at %s, want object-id=0x0011", id, uri)
	}
	ru.profileWorks(t, "after the rotation")
	if _, err := c.GetObjectInfo(ctx, 0x0010, yubihsm.TypeHMACKey); err == nil {
		t.Fatal("the old object 0x0010 is still on the device")
	}
	secret, err := m.server.IssuedSecret(newID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout+r.stderr+done.stdout+done.stderr, secret) {
		t.Fatal("rotate's output holds the new secret")
	}
	notInFiles(t, ru.home, secret, "", "the new secret")
}

// TestRotateTPM: rotation on a TPM (swtpm), a persistent handle moving to the next one and
// a key file to NAME-r2 next to it; the old handle and the old file are gone after.
func TestRotateTPM(t *testing.T) {
	m := startRotMoto(t, rotUserSpec{name: "rot-handle"}, rotUserSpec{name: "rot-file"})
	for _, tc := range []struct {
		name    string
		uri     func(*tpmUser) string
		newPart func(*tpmUser) string
		oldGone func(*testing.T, *tpmUser)
	}{
		{"rot-handle", func(tu *tpmUser) string { return tu.handleURI() }, func(*tpmUser) string { return "handle=0x81010003?" },
			func(t *testing.T, tu *tpmUser) {
				r := tu.run("", nil, "keys", "describe", "--key", tu.handleURI())
				if r.code == 0 && strings.Contains(r.stdout, `"exists": true`) {
					t.Fatal("the old handle still holds a key")
				}
			}},
		{"rot-file", func(tu *tpmUser) string { return tu.fileURI() }, func(tu *tpmUser) string {
			return "file=" + filepath.Join(tu.home, "keys", "prod-r2.tss2.pem") + "?"
		}, func(t *testing.T, tu *tpmUser) {
			if _, err := os.Stat(tu.keyFile()); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the old key file is still there: %v", err)
			}
			if _, err := os.Stat(filepath.Join(tu.home, "keys", "prod-r2.tss2.pem")); err != nil {
				t.Fatalf("the new key file is missing: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tu := newTPMUser(t)
			if err := os.MkdirAll(filepath.Dir(tu.keyFile()), 0o700); err != nil {
				t.Fatal(err)
			}
			ru := newRotUserKey(t, m, tc.name, tu.user, tc.uri(tu))
			r := ru.rotate(t, nil)
			newID := rotatedLine(t, r, ru.oldID)
			if keys := m.keys(t, tc.name); len(keys) != 1 || keys[newID] != "Active" {
				t.Fatalf("IAM keys = %v, want only %s", keys, newID)
			}
			id, uri := ru.profileKey(t)
			if id != newID || !strings.Contains(uri, tc.newPart(tu)) || !strings.Contains(uri, "pin-source=file:"+tu.pwFile) {
				t.Fatalf("profile names %s at %s, want %s", id, uri, tc.newPart(tu))
			}
			ru.profileWorks(t, "after the rotation")
			tc.oldGone(t, tu)
			secret, err := m.server.IssuedSecret(newID)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Fatal("rotate's output holds the new secret")
			}
			notInFiles(t, ru.home, secret, "", "the new secret")
		})
	}
}
