package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
)

// awskeep keys list end to end ("keys list" acceptance): the built awskeep with the real
// plugins, on a SoftHSM2 token holding three keys, on swtpm's persistent handles and on a
// directory of key files, on the YubiHSM simulator, and on the example plugin, which does
// not offer ListKeys.

// listJSON is what keys list --json prints.
type listJSON struct {
	Device string `json:"device"`
	Plugin string `json:"plugin"`
	Keys   []struct {
		URI        string            `json:"uri"`
		Label      string            `json:"label"`
		Created    string            `json:"created"`
		Attributes map[string]string `json:"attributes"`
	} `json:"keys"`
}

// listKeys runs keys list --json on uri and parses what it printed.
func listKeys(t *testing.T, u *user, uri string) listJSON {
	t.Helper()
	r := u.run("", nil, "keys", "list", "--key", uri, "--json")
	mustSucceed(t, r, "keys list --json")
	var out listJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("keys list --json printed something that is not its JSON: %v\n%s", err, r.stdout)
	}
	if r.stderr != "" {
		t.Fatalf("keys list wrote to stderr: %q", r.stderr)
	}
	return out
}

// tableRows runs keys list (a table) on uri and returns its rows as fields, without the
// header, which it checks.
func tableRows(t *testing.T, u *user, uri string) [][]string {
	t.Helper()
	r := u.run("", nil, "keys", "list", "--key", uri)
	mustSucceed(t, r, "keys list")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "URI LABEL CREATED" {
		t.Fatalf("table header %q, want URI LABEL CREATED:\n%s", lines[0], r.stdout)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func TestKeysListSoftHSM(t *testing.T) {
	u := newUser(t)
	for _, object := range []string{"prod", "dev", "ci"} {
		u.importKey(object, world.alice.SecretAccessKey)
	}
	token := "pkcs11:token=aws?module-path=" + softhsmtest.ModulePath + "&pin-source=file:" + u.pinFile
	// Sorted by URI; each keeps the pin-source it was listed with, so it works as it is.
	want := []string{u.keyURI("ci"), u.keyURI("dev"), u.keyURI("prod")}
	rows := tableRows(t, u, token)
	if len(rows) != 3 {
		t.Fatalf("keys list shows %d rows, want the 3 keys: %q", len(rows), rows)
	}
	for i, row := range rows {
		// SoftHSM cannot read back a private key's CKA_START_DATE (SoftHSMv2 issue 804), so
		// awskeep does not set one there, and the date is unknown.
		if len(row) != 3 || row[0] != want[i] || row[1] != []string{"ci", "dev", "prod"}[i] || row[2] != "-" {
			t.Fatalf("row %d = %q, want %s, its label and - for the date", i, row, want[i])
		}
	}
	list := listKeys(t, u, u.keyURI("prod")) // a key's own URI lists its token
	if len(list.Keys) != 3 || list.Keys[2].URI != want[2] || list.Keys[2].Label != "prod" || !strings.HasPrefix(list.Plugin, "pkcs11 ") {
		t.Fatalf("keys list --json = %+v", list)
	}
	if list.Keys[0].Attributes["token"] != "aws" || list.Keys[0].Created != "" {
		t.Fatalf("JSON entry %+v: want the token in its attributes and no date", list.Keys[0])
	}
	// A listed URI names its key: the device computes with it.
	mustSucceed(t, u.run("", nil, credentialProcessArgs(want[1])...), "credential-process with a listed URI")

	t.Run("profile", func(t *testing.T) {
		// --profile lists the token of the profile's key.
		u.writeConfig(t, awskeepProfile("hsm", u.keyURI("dev")))
		r := u.run("", nil, "keys", "list", "--profile", "hsm", "--json")
		mustSucceed(t, r, "keys list --profile")
		var list listJSON
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Keys) != 3 || list.Keys[0].URI != want[0] {
			t.Fatalf("keys list --profile hsm = %s (%v), want the three keys", r.stdout, err)
		}
	})
	t.Run("wrong PIN", func(t *testing.T) {
		bad := filepath.Join(u.home, "bad-pin")
		if err := os.WriteFile(bad, []byte("0000\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := u.run("", nil, "keys", "list", "--key", "pkcs11:token=aws?module-path="+softhsmtest.ModulePath+"&pin-source=file:"+bad)
		mustFailClearly(t, r, "list keys on pkcs11:token=aws", "not retried")
	})
	t.Run("usage", func(t *testing.T) {
		mustFailUsage(t, u.run("", nil, "keys", "list"), "--key")
		mustFailClearly(t, u.run("", nil, "keys", "list", "--key", "pkcs11:token=aws;nope=1"), "nope")
	})
}

func TestKeysListTPM(t *testing.T) {
	tu := newTPMUser(t)
	handles := []string{"0x81010002", "0x81010003"}
	for _, h := range handles {
		tu.importTPM(t, tu.uri("handle="+h))
	}
	dir := filepath.Join(tu.home, "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "a.tss2.pem"), filepath.Join(dir, "b.tss2.pem")}
	for _, f := range files {
		tu.importTPM(t, tu.uri("file="+f))
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("keys for prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("handles", func(t *testing.T) {
		rows := tableRows(t, tu.user, "tpm:?device="+tu.sw.Device+"&pin-source=file:"+tu.pwFile)
		if len(rows) != 2 {
			t.Fatalf("keys list shows %q, want the two handles", rows)
		}
		for i, row := range rows {
			// A persistent object has neither a label nor a date.
			if want := tu.uri("handle=" + handles[i]); len(row) != 3 || row[0] != want || row[1] != "-" || row[2] != "-" {
				t.Fatalf("row %d = %q, want %s", i, row, want)
			}
		}
		// A TPM lists without a password: pin-value= says there is none.
		list := listKeys(t, tu.user, "tpm:handle="+handles[1]+"?device="+tu.sw.Device+"&pin-value=")
		if len(list.Keys) != 2 || list.Keys[0].Attributes["handle"] != handles[0] {
			t.Fatalf("keys list --json = %+v", list)
		}
		if strings.Contains(list.Keys[0].URI, "pin-") {
			t.Fatalf("a listed URI took over pin-value=: %s", list.Keys[0].URI)
		}
	})
	t.Run("files", func(t *testing.T) {
		for _, uri := range []string{"tpm:dir=" + dir + "?device=" + tu.sw.Device + "&pin-source=file:" + tu.pwFile, tu.uri("file=" + files[1])} {
			list := listKeys(t, tu.user, uri)
			if len(list.Keys) != 2 {
				t.Fatalf("keys list %s = %+v, want the two key files", uri, list)
			}
			for i, k := range list.Keys {
				if want := tu.uri("file=" + files[i]); k.URI != want || k.Label != filepath.Base(files[i]) {
					t.Fatalf("entry %d = %+v, want %s", i, k, want)
				}
				fi, err := os.Stat(files[i])
				if err != nil {
					t.Fatal(err)
				}
				if k.Created != fi.ModTime().UTC().Format(time.RFC3339) {
					t.Fatalf("entry %s created %q, want the file's modification time %s", k.URI, k.Created, fi.ModTime().UTC().Format(time.RFC3339))
				}
			}
		}
		// A listed file URI names its key.
		tu.assumeRole(t, tu.uri("file="+files[0]))
	})
}

func TestKeysListYubiHSM(t *testing.T) {
	yu := newYubiUser(t)
	yu.importAlice(t)
	for _, id := range []string{"0x0011", "0x0012"} {
		mustSucceed(t, yu.run(world.alice.SecretAccessKey+"\n", nil, "import", "--key", yu.uri(id)), "import "+id)
	}
	device := "yubihsm:?connector=http://" + yu.addr + "&auth-key-id=1&pin-source=file:" + yu.pwFile
	rows := tableRows(t, yu.user, device)
	if len(rows) != 3 {
		t.Fatalf("keys list shows %q, want the three HMAC keys", rows)
	}
	for i, id := range []string{yubiObject, "0x0011", "0x0012"} {
		if row := rows[i]; len(row) < 3 || row[0] != yu.uri(id) || row[len(row)-1] != "-" {
			t.Fatalf("row %d = %q, want %s with no date (the device records none)", i, row, yu.uri(id))
		}
	}
	list := listKeys(t, yu.user, yu.uri(yubiObject))
	if len(list.Keys) != 3 || list.Keys[0].Attributes["object-id"] != "0x0010" {
		t.Fatalf("keys list --json = %+v", list)
	}
	yu.assumeRole(t, list.Keys[0].URI)
}

// TestKeysListUnsupported: the example plugin does not offer ListKeys.
func TestKeysListUnsupported(t *testing.T) {
	u := newUser(t)
	r := u.run("", nil, "keys", "list", "--key", "example:?pin-value=")
	mustFailClearly(t, r, "list keys on example:", "the example backend cannot list keys")
}
