package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
)

// TestMigrate moves a profile from aws-pkcs-process-credential to awskeep, as
// docs/migrating.md tells a reader to: `awskeep migrate` rewrites the profile in place (the
// other lines of the config file kept byte for byte) and moves the PIN from the old line's
// pin-value into a 0600 file; then `awskeep import --key NEW-URI` takes the IAM user's
// secret on standard input and `awskeep credential-process` assumes the role on moto. The
// PIN is on the old line in the config file on purpose (that is what the tool made users
// do); it is in no argv, no output and, afterwards, no file but the pin file.
func TestMigrate(t *testing.T) {
	u := newUser(t)
	// The tool's URI: slot= (not RFC 7512), model= and manufacturer=, the old object's label
	// and id, and the PIN as pin-value.
	oldURI := fmt.Sprintf("pkcs11:model=SoftHSM%%20v2;manufacturer=SoftHSM%%20project;slot=0;serial=%s;token=%s;object=HMACKey;id=%%01%%00?pin-value=%s&module-path=%s",
		u.token.Serial, u.token.Label, userPIN, softhsmtest.ModulePath)
	oldLine := func(extra string) string {
		return `credential_process = /opt/aws_hmac/bin/aws-pkcs-process-credential --aws-arn="` + world.roleARN +
			`" --aws-region=us-east-1 --aws-session-name=migrated --assumeRole=true --pkcs-uri="` + oldURI +
			`" --aws-access-key-id=` + world.alice.AccessKeyID + ` --duration=3600` + extra + "\n"
	}
	before := "# hand-written; keep every byte of this\n[default]\nregion = eu-west-1   ; a comment\noutput=json\n\n"
	after := "\n[profile other] # another profile\n; its comment\ncredential_process = /usr/bin/true\n\n" +
		motoServices("moto", world.server.URL)
	prod := func(extra string) string {
		return "[profile prod]\n# the old tool\n" + oldLine(extra) + "services = moto\n"
	}
	pinFile := filepath.Join(u.home, "config", "prod.pin")
	unchanged := func(t *testing.T, want string) {
		t.Helper()
		got, err := os.ReadFile(u.configPath())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("the config file changed:\n%s", got)
		}
		if _, err := os.Lstat(pinFile); err == nil {
			t.Fatalf("%s was written", pinFile)
		}
	}

	t.Run("unknown flag", func(t *testing.T) {
		config := before + prod(" --frobnicate=7") + after
		u.writeConfig(t, config)
		r := u.run("", nil, "migrate", "--profile", "prod", "--pin-file", pinFile)
		mustFailClearly(t, r, "migrate prod", "--frobnicate", "docs/migrating.md")
		unchanged(t, config)
	})
	t.Run("no pin file", func(t *testing.T) {
		config := before + prod("") + after
		u.writeConfig(t, config)
		r := u.run("", nil, "migrate", "--profile", "prod")
		mustFailClearly(t, r, "pin-value", "--pin-file PATH")
		unchanged(t, config)
	})
	var dry string // what --dry-run printed: the section the real run writes
	t.Run("dry run", func(t *testing.T) {
		config := before + prod("") + after
		u.writeConfig(t, config)
		r := u.run("", nil, "migrate", "--profile", "prod", "--pin-file", pinFile, "--dry-run")
		mustSucceed(t, r, "migrate --dry-run")
		for _, want := range []string{"[profile prod]\n", "credential_process = awskeep credential-process --profile prod\n",
			"pin-source=file:" + pinFile, "awskeep_role_arn = " + world.roleARN + "\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("--dry-run does not print %q:\n%s", want, r.stdout)
			}
		}
		unchanged(t, config)
		dry = r.stdout
	})

	// The migration itself.
	u.writeConfig(t, before+prod("")+after)
	r := u.run("", nil, "migrate", "--profile", "prod", "--pin-file", pinFile)
	mustSucceed(t, r, "migrate")
	if r.stdout != "migrated profile prod from aws-pkcs-process-credential\n" {
		t.Fatalf("stdout = %q", r.stdout)
	}
	data, err := os.ReadFile(u.configPath())
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	if !strings.HasPrefix(config, before) || !strings.HasSuffix(config, after) {
		t.Fatalf("the lines around [profile prod] changed:\n%s", config)
	}
	if strings.Contains(config, userPIN) || strings.Contains(config, "pin-value") || strings.Contains(config, "aws-pkcs-process-credential") {
		t.Fatalf("the config file still holds the old line or the PIN:\n%s", config)
	}
	section := strings.TrimSuffix(strings.TrimPrefix(config, before), after)
	var key string
	for _, l := range strings.Split(section, "\n") {
		if v, ok := strings.CutPrefix(l, "awskeep_key = "); ok {
			key = v
		}
	}
	wantKey := fmt.Sprintf("pkcs11:model=SoftHSM%%20v2;manufacturer=SoftHSM%%20project;serial=%s;token=%s;object=aws-prod?module-path=%s&pin-source=file:%s",
		u.token.Serial, u.token.Label, softhsmtest.ModulePath, pinFile)
	if key != wantKey {
		t.Fatalf("awskeep_key = %s\nwant          %s", key, wantKey)
	}
	wantSection := "[profile prod]\n# the old tool\n" +
		"credential_process = awskeep credential-process --profile prod\n" +
		"services = moto\n" +
		"region = us-east-1\n" +
		"awskeep_key = " + wantKey + "\n" +
		"awskeep_access_key_id = " + world.alice.AccessKeyID + "\n" +
		"awskeep_role_arn = " + world.roleARN + "\n" +
		"role_session_name = migrated\n" +
		"duration_seconds = 3600\n"
	if section != wantSection {
		t.Fatalf("[profile prod] is\n%s\nwant\n%s", section, wantSection)
	}
	if dry != strings.TrimRight(section, "\n")+"\n" {
		t.Fatalf("--dry-run printed\n%s\nthe run wrote\n%s", dry, section)
	}
	if want := "awskeep import --key '" + wantKey + "'"; !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("stderr does not say the next step (%s) in one line:\n%s", want, r.stderr)
	}
	fi, err := os.Stat(pinFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %04o, want 0600", pinFile, fi.Mode().Perm())
	}
	if got, _ := os.ReadFile(pinFile); string(got) != userPIN+"\n" {
		t.Fatal("the pin file does not hold the PIN")
	}

	// Again: the profile runs awskeep now, and the pin file exists.
	r = u.run("", nil, "migrate", "--profile", "prod", "--pin-file", pinFile)
	mustFailClearly(t, r, "already runs awskeep")

	// The guide's next step: import the secret again, then use the profile.
	r = u.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", key)
	mustSucceed(t, r, "import --key NEW-URI")
	r = u.run("", nil, "credential-process", "--profile", "prod")
	mustSucceed(t, r, "credential-process --profile prod")
	c, err := parseCredentials(r.stdout)
	if err != nil {
		t.Fatalf("credential-process output: %v\n%s", err, r.stdout)
	}
	if c.AccessKeyID == "" || c.AccessKeyID == world.alice.AccessKeyID {
		t.Fatalf("credential-process gave %s, want temporary credentials of the role", c)
	}
}

// TestMigrateTPM moves a profile from aws-tpm-process-credential: the key password leaves
// the line (--keyPass) for the pin file, the simulator's host:port becomes device=tcp://,
// --pcrs 23 becomes pcrs=sha256:23, --timeout 20 goes on the credential-process line, and the
// new key is a TSS2 PEM key file under $XDG_CONFIG_HOME/awskeep, which import creates on
// swtpm; credential-process then assumes the role on moto.
func TestMigrateTPM(t *testing.T) {
	tu := newTPMUser(t)
	line := "credential_process = aws-tpm-process-credential --tpm-path=" + strings.TrimPrefix(tu.sw.Device, "tcp://") +
		" --persistentHandle=0x81008003 --aws-arn=" + world.roleARN + " --assumeRole=true --aws-region=us-east-1" +
		" --aws-session-name=tpm-migrated --aws-access-key-id=" + world.alice.AccessKeyID +
		" --duration=3600 --pcrs=23 --keyPass=" + tpmPassword + " --timeout=20 --useEKParent\n"
	tu.writeConfig(t, "[profile laptop]\n"+line+"services = moto\n", motoServices("moto", world.server.URL))
	pinFile := filepath.Join(tu.home, "laptop.pw")
	r := tu.run("", nil, "migrate", "--profile", "laptop", "--pin-file", pinFile)
	mustSucceed(t, r, "migrate")
	keyFile := filepath.Join(tu.home, ".config", "awskeep", "laptop.tss2.pem")
	wantKey := "tpm:file=" + keyFile + "?device=" + tu.sw.Device + "&pcrs=sha256:23&pin-source=file:" + pinFile
	data, err := os.ReadFile(tu.configPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"credential_process = awskeep credential-process --profile laptop --timeout 20s\n",
		"awskeep_key = " + wantKey + "\n",
		"awskeep_role_arn = " + world.roleARN + "\n",
		"role_session_name = tpm-migrated\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("the profile has no line %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), tpmPassword) {
		t.Fatal("the config file still holds the key password")
	}
	if got, _ := os.ReadFile(pinFile); string(got) != tpmPassword+"\n" {
		t.Fatal("the pin file does not hold the key password")
	}
	mustSucceed(t, tu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", wantKey), "import --key NEW-URI")
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("import wrote no key file: %v", err)
	}
	r = tu.run("", nil, "credential-process", "--profile", "laptop")
	mustSucceed(t, r, "credential-process --profile laptop")
	if _, err := parseCredentials(r.stdout); err != nil {
		t.Fatalf("credential-process output: %v", err)
	}
}
