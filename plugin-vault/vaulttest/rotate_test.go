package vaulttest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
)

// TestRotate: `awskeep rotate` moves a profile from one transit key to a new one on the
// same Vault (NAME -> NAME-r2), against a moto that refuses inactive access keys:
// afterwards IAM holds only the new access key, the old transit key is gone, the profile
// works with the new key, and the new secret is in no output and no file.
func TestRotate(t *testing.T) {
	v := startVault(t)
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	moto := mototest.StartRefusingInactive(t)
	rot, err := moto.NewRotation(c, "alice", "deployer")
	if err != nil {
		t.Fatal(err)
	}
	admin, alice, roleARN := rot.Admin, rot.User, rot.RoleARN
	if err := moto.EnableAuth(c); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	binDir, pluginDir := buildHost(t, home)
	// Rotation imports a key and deletes one: the profile's token has the admin policy.
	adminToken := v.Token("awskeep-admin")
	u := &e2eUser{t: t, home: home, bin: filepath.Join(binDir, "awskeep"), plugins: pluginDir,
		secrets: []string{alice.SecretAccessKey, adminToken, v.root, admin.SecretAccessKey}}
	tokenFile := filepath.Join(home, "token")
	writeFile(t, tokenFile, adminToken+"\n")
	name := newName("rot")
	oldURI := v.URI(name) + "&pin-source=file:" + tokenFile
	newURI := v.URI(name+"-r2") + "&pin-source=file:" + tokenFile
	u.mustRun(u.bin, alice.SecretAccessKey+"\n", "import", "--key", oldURI)
	config := filepath.Join(home, "aws-config")
	writeFile(t, config, "[profile rot]\nregion = us-east-1\nendpoint_url = "+moto.URL+"\n"+
		"awskeep_key = "+oldURI+"\nawskeep_access_key_id = "+alice.AccessKeyID+"\n"+
		"awskeep_role_arn = "+roleARN+"\nrole_session_name = rotated\n")

	out, errOut, code := u.run(u.bin, "", "rotate", "--profile", "rot")
	if code != 0 {
		t.Fatalf("awskeep rotate: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	line := regexp.MustCompile(`^rotated rot: ` + alice.AccessKeyID + ` -> (AKIA[A-Z0-9]{16})( \(.*\))?\n$`).FindStringSubmatch(out)
	if line == nil {
		t.Fatalf("rotate printed %q, want one line rotated rot: %s -> NEW", out, alice.AccessKeyID)
	}
	newID := line[1]

	keys, err := moto.ListAccessKeys(c, admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != newID || keys[0].Status != "Active" {
		t.Fatalf("IAM keys of alice = %+v, want only %s, Active", keys, newID)
	}
	if s, err := v.client.Logical().Read("transit/keys/" + name); err != nil || s != nil {
		t.Fatalf("the old transit key is still there (%v, %v)", s, err)
	}
	if s, err := v.client.Logical().Read("transit/keys/" + name + "-r2"); err != nil || s == nil {
		t.Fatalf("the new transit key is missing (%v)", err)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "awskeep_key = "+newURI+"\n") || !strings.Contains(string(text), "awskeep_access_key_id = "+newID+"\n") {
		t.Fatalf("the profile does not name the new key:\n%s", text)
	}
	u.mustRun(u.bin, "", "credential-process", "--profile", "rot", "--no-cache")

	secret, err := moto.IssuedSecret(newID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatal("rotate's output holds the new secret")
	}
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, binDir) || strings.HasPrefix(path, pluginDir) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the new secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
