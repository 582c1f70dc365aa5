//go:build cgo

package pkcs11backend

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// rawSession opens a logged-in session on tok with the module the backend loaded, for
// making objects the backend would not make.
func rawSession(t *testing.T, tok *softhsmtest.Token) (*pkcs11.Ctx, pkcs11.SessionHandle) {
	t.Helper()
	p := pkcs11.New(softhsmtest.ModulePath)
	if p == nil {
		t.Fatal("cannot load SoftHSM")
	}
	if err := p.Initialize(); err != nil && code(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		t.Fatal(err)
	}
	sh, err := p.OpenSession(tok.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	// Closing it would be harmless only while another session holds the login: the
	// backend's pool does, for the life of the process.
	t.Cleanup(func() { _ = p.CloseSession(sh) })
	if err := p.Login(sh, pkcs11.CKU_USER, tok.PIN); err != nil && code(err) != pkcs11.CKR_USER_ALREADY_LOGGED_IN {
		t.Fatal(err)
	}
	return p, sh
}

func TestListKeys(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	b := New(func(o *Options) { o.Now = func() time.Time { return day.Add(23*time.Hour + 59*time.Minute) } })
	pin := listToken.PIN
	uri := func(attrs ...keyuri.Attr) plugins.Key {
		return plugins.Key{URI: listToken.URI(attrs...), PIN: pin}
	}
	keys := map[string]plugins.Key{
		"a":  uri(keyuri.Attr{Name: "object", Value: "a"}, keyuri.Attr{Name: "id", Value: "\x01"}),
		"b":  uri(keyuri.Attr{Name: "object", Value: "b"}),
		"03": uri(keyuri.Attr{Name: "id", Value: "\x03"}),
	}
	materials := map[string][]byte{}
	for name, k := range keys {
		materials[name] = material(exampleSecret[:39] + name[:1])
		mustImport(t, b, k, materials[name])
	}

	// Objects that are not awskeep keys, and one that is but carries no date.
	p, sh := rawSession(t, listToken)
	secret := func(label string, extra ...*pkcs11.Attribute) {
		tmpl := append([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}, extra...)
		h, err := p.CreateObject(sh, tmpl)
		if err != nil {
			t.Fatalf("create %s: %v", label, err)
		}
		t.Cleanup(func() { _ = p.DestroyObject(sh, h) })
	}
	generic := func(sensitive, extractable bool) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, sensitive),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, extractable),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, material(exampleSecret)),
		}
	}
	secret("extractable", generic(true, true)...)
	secret("not-sensitive", generic(false, false)...)
	secret(tempPrefix+pendingTag+"object=b", generic(true, false)...)
	secret("aes", pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, bytes.Repeat([]byte{1}, 32)))
	secret("undated", generic(true, false)...)

	// SoftHSM 2.6 cannot read back the date of a private key (see startDate): the keys are
	// then left undated, never dated unreadably.
	created := time.Time{}
	if tok, err := findListToken(); err != nil {
		t.Fatal(err)
	} else if tok.datesReadable {
		created = day
	} else {
		t.Log("this token cannot read back CKA_START_DATE of a private key (SoftHSMv2 issue 804): keys are listed without dates")
	}
	for name, k := range keys {
		sel, err := parseSelector(k.URI, DefaultModulePath)
		if err != nil {
			t.Fatal(err)
		}
		err = withSession(sel, pin, func(s *session) error {
			h, err := b.one(s, sel)
			if err != nil {
				return err
			}
			_, err = s.p.GetAttributeValue(s.h, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_START_DATE, nil)})
			return err
		})
		if err != nil {
			t.Errorf("reading CKA_START_DATE of key %s: %v", name, err)
		}
	}
	attrs := func(id string) map[string]string {
		m := map[string]string{"token": "list", "token-serial": listToken.Serial, "key-type": "CKK_GENERIC_SECRET"}
		if id != "" {
			m["id"] = id
		}
		return m
	}
	want := []plugins.KeyEntry{
		{URI: keys["03"].URI, Created: created, Attributes: attrs("03")},
		{URI: keys["a"].URI, Label: "a", Created: created, Attributes: attrs("01")},
		{URI: keys["b"].URI, Label: "b", Created: created, Attributes: attrs("")},
		{URI: listToken.KeyURI("undated"), Label: "undated", Attributes: attrs("")},
	}
	for _, tc := range []struct {
		name string
		key  plugins.Key
	}{
		{"token URI", uri()},
		{"a key's URI", keys["b"]},
		{"no token attribute", plugins.Key{URI: "pkcs11:serial=" + listToken.Serial + "?module-path=" + softhsmtest.ModulePath, PIN: pin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.ListKeys(ctx, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if tc.name == "no token attribute" {
				// token= is added in front of the request's own token attributes.
				w = nil
				for _, e := range want {
					u, _ := keyuri.Parse(e.URI)
					u.Path = append(u.Path[:1], append([]keyuri.Attr{{Name: "serial", Value: listToken.Serial}}, u.Path[1:]...)...)
					e.URI = u.String()
					w = append(w, e)
				}
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("ListKeys =\n%+v\nwant\n%+v", got, w)
			}
		})
	}
	// Every URI names its key.
	got, err := b.ListKeys(ctx, uri())
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range keys {
		for _, e := range got {
			if e.URI != k.URI {
				continue
			}
			mac, err := b.HMAC(ctx, plugins.Key{URI: e.URI, PIN: pin}, []byte("20150830"))
			if err != nil || !bytes.Equal(mac, wantHMAC(materials[name], []byte("20150830"))) {
				t.Errorf("HMAC through %s: %x, %v", e.URI, mac, err)
			}
		}
	}
	t.Run("errors", func(t *testing.T) {
		_, err := b.ListKeys(ctx, plugins.Key{URI: "pkcs11:token=no-such-token?module-path=" + softhsmtest.ModulePath, PIN: pin})
		if err == nil {
			t.Fatal("ListKeys of a missing token succeeded")
		}
		_, err = b.ListKeys(ctx, plugins.Key{URI: "tpm:", PIN: pin})
		if !errors.Is(err, plugins.ErrInvalidKeyURI) {
			t.Fatalf("ListKeys of a tpm: URI: %v", err)
		}
		if _, err := b.ListKeys(ctx, plugins.Key{URI: "pkcs11:token=list;type=cert", PIN: pin}); !errors.Is(err, plugins.ErrInvalidKeyURI) {
			t.Fatalf("ListKeys with type=cert: %v", err)
		}
	})
}

// findListToken returns the process's state for listToken, with its probe of dates done.
func findListToken() (*token, error) {
	m, err := loadModule(softhsmtest.ModulePath)
	if err != nil {
		return nil, err
	}
	return m.findToken(&tokenFilter{label: "list"})
}

func TestCKDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"20261102":                         time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		"":                                 {},
		"00000000":                         {},
		"\x00\x00\x00\x00\x00\x00\x00\x00": {},
		"        ":                         {},
		"2026110":                          {},
		"20261399":                         {},
	} {
		got, ok := ckDate([]byte(in))
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Errorf("ckDate(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// FuzzCKDate checks that a CK_DATE is accepted only when it prints back the same.
func FuzzCKDate(f *testing.F) {
	for _, s := range []string{"20261102", "00000000", "", "2026110a", "20260229", "20240229"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		d, ok := ckDate(v)
		if !ok {
			if !d.IsZero() {
				t.Fatalf("ckDate(%q) refused it but returned %v", v, d)
			}
			return
		}
		if got := d.Format("20060102"); got != string(v) || d.Location() != time.UTC {
			t.Fatalf("ckDate(%q) = %v, which prints as %q", v, d, got)
		}
	})
}
