package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/mototest"
)

// TestRotate: `awskeep rotate` moves a profile from a Tink keyset to a new keyset next to
// it (prod.keyset.json -> prod-r2.keyset.json, wrapped by the same KMS key), against a moto
// that refuses inactive access keys: afterwards IAM holds only the new key, the old keyset
// is gone, the profile works with the new key, and the new secret is in no output and no
// file but the encrypted keyset.
func TestRotate(t *testing.T) {
	tmp := t.TempDir()
	bin, plugins := filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins")
	build(t, bin, plugins)
	awskeep := filepath.Join(bin, "awskeep")

	ctx := context.Background()
	moto := mototest.StartRefusingInactive(t)
	rot, err := moto.NewRotation(ctx, "alice", "deployer")
	if err != nil {
		t.Fatal(err)
	}
	admin, alice, roleARN := rot.Admin, rot.User, rot.RoleARN
	kek := createKEK(t, moto, admin)
	if err := moto.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}

	home := filepath.Join(tmp, "home")
	keys := filepath.Join(home, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	oldKeyset, newKeyset := filepath.Join(keys, "prod.keyset.json"), filepath.Join(keys, "prod-r2.keyset.json")
	keyURI := func(file string) string {
		return fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s&profile=kms", file, kek, moto.URL)
	}
	// The plugin reaches KMS as the admin, through the [kms] profile.
	m := newMachine(t, home, plugins, admin, alice.SecretAccessKey)
	m.env = append(m.env, "AWSKEEP_PLUGIN_ENV=AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED")
	config := filepath.Join(home, "aws-config")
	mustSucceed(t, m.run(awskeep, alice.SecretAccessKey+"\n", nil, "import", "--key", keyURI(oldKeyset)), "import")
	profile := fmt.Sprintf("[profile rot]\nregion = us-east-1\nendpoint_url = %s\n"+
		"awskeep_key = %s\nawskeep_access_key_id = %s\nawskeep_role_arn = %s\nrole_session_name = rotated\n",
		moto.URL, keyURI(oldKeyset), alice.AccessKeyID, roleARN)
	if err := os.WriteFile(config, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}

	r := m.run(awskeep, "", nil, "rotate", "--profile", "rot")
	mustSucceed(t, r, "awskeep rotate")
	line := regexp.MustCompile(`^rotated rot: ` + alice.AccessKeyID + ` -> (AKIA[A-Z0-9]{16})( \(.*\))?\n$`).FindStringSubmatch(r.stdout)
	if line == nil {
		t.Fatalf("rotate printed %q, want one line rotated rot: %s -> NEW", r.stdout, alice.AccessKeyID)
	}
	newID := line[1]

	iamKeys, err := moto.ListAccessKeys(ctx, admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(iamKeys) != 1 || iamKeys[0].ID != newID || iamKeys[0].Status != "Active" {
		t.Fatalf("IAM keys of alice = %+v, want only %s, Active", iamKeys, newID)
	}
	if _, err := os.Stat(oldKeyset); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the old keyset is still there: %v", err)
	}
	if fi, err := os.Stat(newKeyset); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new keyset: %v, %v", fi, err)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "awskeep_key = "+keyURI(newKeyset)+"\n") ||
		!strings.Contains(string(text), "awskeep_access_key_id = "+newID+"\n") {
		t.Fatalf("the profile does not name the new key:\n%s", text)
	}

	// The profile works with the new key: the device signs AssumeRole for it.
	mustSucceed(t, m.run(awskeep, "", nil, "credential-process", "--profile", "rot", "--no-cache"), "credential-process after rotate")

	secret, err := moto.IssuedSecret(newID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatal("rotate's output holds the new secret")
	}
	noFileHolds(t, home, secret)
}
