//go:build cgo

package pkcs11backend

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// TestPrepare: Prepare loads the module a key URI names (here under a name of its own,
// a symbolic link, so that the registry shows this load) and the first request then works
// as without it; URIs it cannot use are ignored, never a panic.
func TestPrepare(t *testing.T) {
	var _ plugins.Preparer = New()
	link := filepath.Join(t.TempDir(), "libsofthsm2-prepare.so")
	if err := os.Symlink(softhsmtest.ModulePath, link); err != nil {
		t.Fatal(err)
	}
	b := New()
	u := keyuri.URI{Scheme: "pkcs11",
		Path:  []keyuri.Attr{{Name: "token", Value: mainToken.Label}, {Name: "object", Value: keyLabel(t, "")}},
		Query: []keyuri.Attr{{Name: "module-path", Value: link}}}
	uri := u.String()
	b.Prepare(uri)
	registry.mu.Lock()
	_, loaded := registry.byName[link]
	registry.mu.Unlock()
	if !loaded {
		t.Fatalf("Prepare(%q) did not load the module", uri)
	}
	k := plugins.Key{URI: uri, PIN: testPIN}
	mustImport(t, b, k, material(exampleSecret))
	if _, err := b.HMAC(context.Background(), k, []byte("20150830")); err != nil {
		t.Fatalf("HMAC after Prepare: %v", err)
	}
	for _, bad := range []string{"", "not a uri", "tpm:handle=0x81000001", "pkcs11:token=x?module-path=/nonexistent-" + t.Name() + ".so", "pkcs11:token=nosuchtoken"} {
		b.Prepare(bad)
	}
}
