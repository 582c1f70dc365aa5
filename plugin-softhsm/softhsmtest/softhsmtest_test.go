package softhsmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

func TestInitToken(t *testing.T) {
	e := TempEnv(t)
	conf, err := os.ReadFile(e.ConfPath)
	if err != nil || !strings.Contains(string(conf), "directories.tokendir = "+e.TokenDir) {
		t.Fatalf("softhsm2.conf = %q, %v", conf, err)
	}
	a := e.NewToken(t, "same", "1234")
	b := e.NewToken(t, "same", "5678")
	if a.Serial == "" || a.Serial == b.Serial || a.Slot == b.Slot {
		t.Errorf("tokens %+v and %+v are not told apart", a, b)
	}
	if a.PIN != "1234" || a.SOPIN == "" || a.SOPIN == b.SOPIN {
		t.Errorf("PINs: %+v, %+v", a, b)
	}
	if entries, _ := os.ReadDir(e.TokenDir); len(entries) != 2 {
		t.Errorf("token dir holds %d entries, want 2", len(entries))
	}
	if got := e.Environ(); len(got) != 1 || got[0] != "SOFTHSM2_CONF="+e.ConfPath {
		t.Errorf("Environ = %v", got)
	}
	if _, err := e.InitToken("bad", "12", "5678"); err == nil {
		t.Error("a 2-digit PIN was accepted (SoftHSM needs 4 or more)")
	}
}

func TestKeyURI(t *testing.T) {
	tok := &Token{Label: "my token", Serial: "abc"}
	got := tok.KeyURI("prod/key")
	want := "pkcs11:token=my%20token;object=prod%2Fkey?module-path=" + ModulePath
	if got != want {
		t.Errorf("KeyURI = %q, want %q", got, want)
	}
	u, err := keyuri.Parse(tok.URI(keyuri.Attr{Name: "id", Value: "\x01"}, keyuri.Attr{Name: "serial", Value: tok.Serial}))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := u.PathAttr("id"); v != "\x01" {
		t.Errorf("id = %q", v)
	}
	if v, _ := u.QueryAttr("module-path"); v != ModulePath || filepath.Base(v) != "libsofthsm2.so" {
		t.Errorf("module-path = %q", v)
	}
}
