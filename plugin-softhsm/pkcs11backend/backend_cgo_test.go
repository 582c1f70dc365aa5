//go:build cgo

package pkcs11backend

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The AWS documentation's example secret access key.
const exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func material(secret string) []byte { return []byte("AWS4" + secret) }

func wantHMAC(k, msg []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write(msg)
	return m.Sum(nil)
}

func mustImport(t *testing.T, b *Backend, k plugins.Key, mat []byte) {
	t.Helper()
	if err := b.ImportKey(context.Background(), k, mat, plugins.ImportOptions{}); err != nil {
		t.Fatalf("ImportKey: %v", err)
	}
	t.Cleanup(func() { _ = b.DeleteKey(context.Background(), k) })
}

// keyLabel gives each test its own key names on the shared token.
func keyLabel(t *testing.T, suffix string) string {
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + suffix
}

func TestInfo(t *testing.T) {
	info, err := New().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "pkcs11" || info.ProtocolVersion != plugins.ProtocolVersion ||
		len(info.Schemes) != 1 || info.Schemes[0] != "pkcs11" {
		t.Errorf("Info = %+v", info)
	}
	for _, c := range []string{plugins.CapabilityNonExtractable, plugins.CapabilityPIN, plugins.CapabilityListKeys} {
		if !strings.Contains(strings.Join(info.Capabilities, ","), c) {
			t.Errorf("capabilities %v lack %q", info.Capabilities, c)
		}
	}
}

// TestHMACKnownAnswer compares the token's HMAC with crypto/hmac: the SigV4 date step and
// the edges of the message size.
func TestHMACKnownAnswer(t *testing.T) {
	b := New()
	k := key(mainToken, keyLabel(t, ""))
	mat := material(exampleSecret)
	mustImport(t, b, k, mat)
	for _, msg := range [][]byte{
		[]byte("20150830"), // SigV4 test suite date: kDate
		{},
		bytes.Repeat([]byte{0xa5}, plugins.MaxMessageSize),
	} {
		t.Run(fmt.Sprintf("len%d", len(msg)), func(t *testing.T) {
			got, err := b.HMAC(context.Background(), k, msg)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantHMAC(mat, msg); !bytes.Equal(got, want) {
				t.Errorf("HMAC = %x, want %x", got, want)
			}
		})
	}
	_, err := b.HMAC(context.Background(), k, make([]byte, plugins.MaxMessageSize+1))
	if !errors.Is(err, plugins.ErrMessageTooLarge) {
		t.Errorf("HMAC of %d bytes: %v, want ErrMessageTooLarge", plugins.MaxMessageSize+1, err)
	}
}

// TestValueNeverLeaves reads the imported key with miekg/pkcs11 directly, not through the
// backend: the token must refuse CKA_VALUE and report the protective attributes.
func TestValueNeverLeaves(t *testing.T) {
	b := New()
	label := keyLabel(t, "")
	mustImport(t, b, key(mainToken, label), material(exampleSecret))

	p := pkcs11.New(softhsmtest.ModulePath)
	if p == nil {
		t.Fatal("cannot load SoftHSM")
	}
	// The backend initialized the module in this process already.
	if err := p.Initialize(); err != nil && code(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		t.Fatal(err)
	}
	sh, err := p.OpenSession(mainToken.Slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseSession(sh)
	if err := p.Login(sh, pkcs11.CKU_USER, mainToken.PIN); err != nil && code(err) != pkcs11.CKR_USER_ALREADY_LOGGED_IN {
		t.Fatal(err)
	}
	if err := p.FindObjectsInit(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	hs, _, err := p.FindObjects(sh, 10)
	_ = p.FindObjectsFinal(sh)
	if err != nil || len(hs) != 1 {
		t.Fatalf("FindObjects = %v, %v; want one key", hs, err)
	}
	_, err = p.GetAttributeValue(sh, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if code(err) != pkcs11.CKR_ATTRIBUTE_SENSITIVE {
		t.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
	}
	want := map[uint]bool{
		pkcs11.CKA_TOKEN: true, pkcs11.CKA_PRIVATE: true, pkcs11.CKA_SENSITIVE: true,
		pkcs11.CKA_EXTRACTABLE: false, pkcs11.CKA_SIGN: true, pkcs11.CKA_VERIFY: false,
		pkcs11.CKA_ENCRYPT: false, pkcs11.CKA_DECRYPT: false, pkcs11.CKA_WRAP: false,
		pkcs11.CKA_UNWRAP: false, pkcs11.CKA_DERIVE: false,
	}
	// CKA_NEVER_EXTRACTABLE and CKA_ALWAYS_SENSITIVE stay false for an imported key (PKCS#11
	// v2.40 section 4.10: the value existed outside the token before), so they are not checked.
	for typ, wantV := range want {
		attrs, err := p.GetAttributeValue(sh, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
		if err != nil {
			t.Errorf("attribute 0x%x: %v", typ, err)
			continue
		}
		if got := boolean(attrs[0].Value); got != wantV {
			t.Errorf("attribute 0x%x = %v, want %v", typ, got, wantV)
		}
	}
	// Nor may the key be wrapped out under another key.
	if _, err := p.WrapKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)}, hs[0], hs[0]); err == nil {
		t.Error("WrapKey succeeded")
	}
}

func TestDescribeKey(t *testing.T) {
	b := New()
	ctx := context.Background()
	label := keyLabel(t, "")
	uri := mainToken.URI(keyuri.Attr{Name: "object", Value: label}, keyuri.Attr{Name: "id", Value: "\x01\xfe"})
	k := plugins.Key{URI: uri, PIN: testPIN}
	mustImport(t, b, k, material(exampleSecret))

	for _, k := range []plugins.Key{k, key(mainToken, label)} {
		d, err := b.DescribeKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Exists || d.Extractable || !d.Sensitive || d.Algorithm != plugins.AlgorithmHMACSHA256 || d.Label != label {
			t.Errorf("DescribeKey = %+v", d)
		}
		for name, want := range map[string]string{"id": "01fe", "token": "main", "token-serial": mainToken.Serial,
			"key-type": "CKK_GENERIC_SECRET", "sign": "true"} {
			if d.Attributes[name] != want {
				t.Errorf("attribute %s = %q, want %q", name, d.Attributes[name], want)
			}
		}
	}
	d, err := b.DescribeKey(ctx, key(mainToken, label+"-missing"))
	if err != nil || d.Exists {
		t.Errorf("DescribeKey(missing) = %+v, %v; want Exists false, nil", d, err)
	}
}

func TestDeleteKey(t *testing.T) {
	b := New()
	ctx := context.Background()
	k := key(mainToken, keyLabel(t, ""))
	if err := b.ImportKey(ctx, k, material(exampleSecret), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d, err := b.DescribeKey(ctx, k); err != nil || d.Exists {
		t.Errorf("after delete: DescribeKey = %+v, %v", d, err)
	}
	if err := b.DeleteKey(ctx, k); !errors.Is(err, plugins.ErrKeyNotFound) {
		t.Errorf("second DeleteKey: %v, want ErrKeyNotFound", err)
	}
	if _, err := b.HMAC(ctx, k, []byte("20150830")); !errors.Is(err, plugins.ErrKeyNotFound) ||
		!strings.Contains(err.Error(), `on token "main"`) {
		t.Errorf("HMAC after delete: %v, want ErrKeyNotFound naming the token", err)
	}
}

func TestImportOverwrite(t *testing.T) {
	b := New()
	ctx := context.Background()
	k := key(mainToken, keyLabel(t, ""))
	oldMat, newMat := material(exampleSecret), material(strings.Repeat("N", 40))
	mustImport(t, b, k, oldMat)

	err := b.ImportKey(ctx, k, newMat, plugins.ImportOptions{})
	if !errors.Is(err, plugins.ErrKeyExists) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second import: %v, want ErrKeyExists mentioning --force", err)
	}
	checkKey(t, b, k, oldMat)

	// A replacement the token cannot use is rolled back and the old key stays.
	err = b.ImportKey(ctx, k, []byte("AWS4short"), plugins.ImportOptions{Overwrite: true})
	if !errors.Is(err, plugins.ErrUnsupported) {
		t.Errorf("overwrite with a short key: %v, want ErrUnsupported", err)
	}
	checkKey(t, b, k, oldMat)

	if err := b.ImportKey(ctx, k, newMat, plugins.ImportOptions{Overwrite: true}); err != nil {
		t.Fatalf("forced import: %v", err)
	}
	checkKey(t, b, k, newMat) // exactly one key (not ambiguous) and it is the new one
}

// checkKey asserts that k names exactly one key and that it holds mat.
func checkKey(t *testing.T, b *Backend, k plugins.Key, mat []byte) {
	t.Helper()
	msg := []byte("20260102")
	got, err := b.HMAC(context.Background(), k, msg)
	if err != nil {
		t.Fatalf("HMAC: %v", err)
	}
	if !bytes.Equal(got, wantHMAC(mat, msg)) {
		t.Errorf("HMAC does not match the expected key material")
	}
}

func TestImportNeedsAName(t *testing.T) {
	b := New()
	for _, uri := range []string{
		"pkcs11:token=main?module-path=" + softhsmtest.ModulePath,
		"pkcs11:token=main;object=?module-path=" + softhsmtest.ModulePath,
	} {
		err := b.ImportKey(context.Background(), plugins.Key{URI: uri, PIN: testPIN}, material(exampleSecret), plugins.ImportOptions{})
		if !errors.Is(err, plugins.ErrInvalidKeyURI) {
			t.Errorf("ImportKey(%s): %v, want ErrInvalidKeyURI", uri, err)
		}
	}
}

// TestKeyTooShort: SoftHSM refuses HMAC keys under 32 bytes with CKR_KEY_SIZE_RANGE; the
// import must say so and keep nothing.
func TestKeyTooShort(t *testing.T) {
	b := New()
	ctx := context.Background()
	k := key(mainToken, keyLabel(t, ""))
	err := b.ImportKey(ctx, k, []byte("AWS4tooshortsecret"), plugins.ImportOptions{})
	if !errors.Is(err, plugins.ErrUnsupported) {
		t.Fatalf("import: %v, want ErrUnsupported", err)
	}
	for _, want := range []string{"CKR_KEY_SIZE_RANGE", "too short", "not kept"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if d, err := b.DescribeKey(ctx, k); err != nil || d.Exists {
		t.Errorf("after a refused import: DescribeKey = %+v, %v; want nothing kept", d, err)
	}
}

func TestAmbiguousKeys(t *testing.T) {
	b := New()
	ctx := context.Background()
	label := keyLabel(t, "")
	mk := func(label, id string) plugins.Key {
		return plugins.Key{URI: mainToken.URI(keyuri.Attr{Name: "object", Value: label}, keyuri.Attr{Name: "id", Value: id}), PIN: testPIN}
	}
	mustImport(t, b, mk(label, "\x01"), material(exampleSecret))
	mustImport(t, b, mk(label, "\x02"), material(strings.Repeat("B", 40)))
	mustImport(t, b, mk(label+"-x", "\x07"), material(exampleSecret))
	mustImport(t, b, mk(label+"-y", "\x07"), material(exampleSecret))

	tests := []struct {
		name string
		key  plugins.Key
		want []string
	}{
		{"same label", key(mainToken, label), []string{`2 keys have label "` + label + `"`, "add id=", "id=%01", "01, 02"}},
		{"same id", plugins.Key{URI: mainToken.URI(keyuri.Attr{Name: "id", Value: "\x07"}), PIN: testPIN},
			[]string{"2 keys have id 07", "add object=", `"` + label + `-x", "` + label + `-y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errH := b.HMAC(ctx, tt.key, []byte("x"))
			_, errD := b.DescribeKey(ctx, tt.key)
			errX := b.DeleteKey(ctx, tt.key)
			for _, err := range []error{errH, errD, errX} {
				if !errors.Is(err, plugins.ErrAmbiguousKey) {
					t.Errorf("got %v, want ErrAmbiguousKey", err)
					continue
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
			}
		})
	}
	// Adding the distinguishing attribute selects one key.
	checkKey(t, b, mk(label, "\x02"), material(strings.Repeat("B", 40)))
}

func TestTokenSelection(t *testing.T) {
	b := New()
	ctx := context.Background()
	label := keyLabel(t, "")
	mustImport(t, b, plugins.Key{URI: twinTokens[1].URI(keyuri.Attr{Name: "serial", Value: twinTokens[1].Serial},
		keyuri.Attr{Name: "object", Value: label}), PIN: testPIN}, material(exampleSecret))
	mustImport(t, b, key(mainToken, label), material(exampleSecret))
	mod := "?module-path=" + softhsmtest.ModulePath
	tests := []struct {
		name    string
		uri     string
		wantErr error
		wantMsg string
	}{
		{"label", "pkcs11:token=main;object=" + label + mod, nil, ""},
		{"serial only", "pkcs11:serial=" + mainToken.Serial + ";object=" + label + mod, nil, ""},
		{"slot-id", fmt.Sprintf("pkcs11:slot-id=%d;object=%s%s", mainToken.Slot, label, mod), nil, ""},
		{"manufacturer and model", "pkcs11:token=main;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;object=" + label + mod, nil, ""},
		{"library", "pkcs11:token=main;library-manufacturer=SoftHSM;object=" + label + mod, nil, ""},
		{"twin by serial", "pkcs11:token=twin;serial=" + twinTokens[1].Serial + ";object=" + label + mod, nil, ""},
		{"no such label", "pkcs11:token=nosuch;object=" + label + mod, plugins.ErrDeviceUnavailable,
			`no token with label "nosuch" in module "` + softhsmtest.ModulePath + `" (tokens: `},
		{"wrong model", "pkcs11:token=main;model=HSM9000;object=" + label + mod, plugins.ErrDeviceUnavailable,
			`no token with label "main" and model "HSM9000"`},
		{"no such slot", "pkcs11:slot-id=4242;object=" + label + mod, plugins.ErrDeviceUnavailable, "slot-id 4242"},
		{"wrong library", "pkcs11:token=main;library-manufacturer=Acme;object=" + label + mod, plugins.ErrDeviceUnavailable,
			"not the library the URI asks for"},
		{"two tokens one label", "pkcs11:token=twin;object=" + label + mod, plugins.ErrAmbiguousKey,
			"add serial= to the URI (serials: "},
		{"no token attribute, many tokens", "pkcs11:object=" + label + mod, plugins.ErrAmbiguousKey, "tokens match any attributes"},
		{"no token attribute, distinct labels", "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;object=" + label + mod,
			plugins.ErrAmbiguousKey, "add serial="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.HMAC(ctx, plugins.Key{URI: tt.uri, PIN: testPIN}, []byte("x"))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("HMAC: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("HMAC: %v\nwant %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestModulePath(t *testing.T) {
	b := New()
	tests := []struct {
		name    string
		path    string
		wantErr error
		wantMsg string
	}{
		{"missing file", "/nonexistent/libpkcs11.so", plugins.ErrDeviceUnavailable, "no such file"},
		{"not a PKCS#11 module", "/lib/x86_64-linux-gnu/libc.so.6", plugins.ErrDeviceUnavailable, "is not a PKCS#11 module"},
		{"not a library", "/etc/hostname", plugins.ErrDeviceUnavailable, "is not a PKCS#11 module"},
		{"directory", "/usr/lib", plugins.ErrDeviceUnavailable, "is a directory"},
		{"relative", "libsofthsm2.so", plugins.ErrInvalidKeyURI, "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := plugins.Key{URI: "pkcs11:token=main;object=k?module-path=" + tt.path, PIN: testPIN}
			_, err := b.HMAC(context.Background(), k, []byte("x"))
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("HMAC: %v\nwant %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
			// A failed module is not cached: the next request says the same.
			_, err2 := b.HMAC(context.Background(), k, []byte("x"))
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second HMAC: %v", err2)
			}
		})
	}
}

// TestWrongPIN runs on its own token: an empty PIN is refused without trying it, a wrong
// PIN is tried once (CKR_PIN_INCORRECT), the right one works right after, and once logged in
// a different PIN is refused without asking the token (which would not check it).
//
// The login state lives as long as the process, so the steps run in a fresh process (this
// test binary again, with its own TestMain and tokens); -count=N would otherwise find the
// token logged in.
func TestWrongPIN(t *testing.T) {
	const child = "PKCS11BACKEND_WRONG_PIN_CHILD"
	if os.Getenv(child) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWrongPIN$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), child+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWrongPIN") {
			t.Fatalf("TestWrongPIN in a fresh process: %v\n%s", err, out)
		}
		return
	}
	b := New()
	ctx := context.Background()
	uri := pinToken.KeyURI("k")
	steps := []struct {
		name    string
		pin     string
		wantErr error
		wantMsg string
	}{
		{"empty", "", plugins.ErrPINIncorrect, "needs a PIN"},
		{"wrong", "wrong-pin-0000", plugins.ErrPINIncorrect, "CKR_PIN_INCORRECT"},
		{"right", testPIN, plugins.ErrKeyNotFound, `no key object "k" on token "pin"`},
		{"wrong after login", "wrong-pin-0000", plugins.ErrPINIncorrect, "logged in with another PIN"},
		{"right again", testPIN, plugins.ErrKeyNotFound, ""},
	}
	for _, s := range steps {
		_, err := b.HMAC(ctx, plugins.Key{URI: uri, PIN: s.pin}, []byte("x"))
		if !errors.Is(err, s.wantErr) || !strings.Contains(err.Error(), s.wantMsg) {
			t.Errorf("%s: %v\nwant %v containing %q", s.name, err, s.wantErr, s.wantMsg)
		}
	}
}

func TestConcurrentHMAC(t *testing.T) {
	b := New()
	k := key(mainToken, keyLabel(t, ""))
	mat := material(exampleSecret)
	mustImport(t, b, k, mat)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				msg := fmt.Appendf(nil, "2026%02d%02d", g+1, i+1)
				got, err := b.HMAC(context.Background(), k, msg)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, wantHMAC(mat, msg)) {
					errs <- fmt.Errorf("HMAC(%s) = %x, want %x", msg, got, wantHMAC(mat, msg))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestContextCancelled(t *testing.T) {
	b := New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := key(mainToken, keyLabel(t, ""))
	if err := b.ImportKey(ctx, k, material(exampleSecret), plugins.ImportOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ImportKey: %v, want context.Canceled", err)
	}
	if _, err := b.HMAC(ctx, k, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("HMAC: %v, want context.Canceled", err)
	}
	if _, err := b.DescribeKey(ctx, k); !errors.Is(err, context.Canceled) {
		t.Errorf("DescribeKey: %v, want context.Canceled", err)
	}
	if err := b.DeleteKey(ctx, k); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteKey: %v, want context.Canceled", err)
	}
	if d, err := b.DescribeKey(context.Background(), k); err != nil || d.Exists {
		t.Errorf("a cancelled import left %+v, %v", d, err)
	}
}

// TestSecretsNotInErrors collects the errors of every failure path and checks that none
// carries the PIN or the key material.
func TestSecretsNotInErrors(t *testing.T) {
	b := New()
	ctx := context.Background()
	secretPIN := "S3cretPIN-never-print"
	secret := "SECRETxSECRETxSECRETxSECRETxSECRETxSECRE"
	label := keyLabel(t, "")
	k := key(mainToken, label)
	mustImport(t, b, k, material(secret))
	var errs []error
	add := func(err error) {
		if err == nil {
			t.Errorf("expected an error (#%d)", len(errs))
		}
		errs = append(errs, err)
	}
	add(b.ImportKey(ctx, k, material(secret), plugins.ImportOptions{}))                                   // exists
	add(b.ImportKey(ctx, key(mainToken, label+"s"), []byte("AWS4"+secret[:10]), plugins.ImportOptions{})) // too short
	_, err := b.HMAC(ctx, plugins.Key{URI: k.URI, PIN: secretPIN}, nil)                                   // other PIN
	add(err)
	_, err = b.HMAC(ctx, plugins.Key{URI: pinToken.KeyURI("k"), PIN: secretPIN}, nil) // wrong PIN or other PIN
	add(err)
	_, err = b.HMAC(ctx, plugins.Key{URI: k.URI + "&pin-value=" + secretPIN, PIN: secretPIN}, nil)
	add(err)
	_, err = b.HMAC(ctx, plugins.Key{URI: "pkcs11:token=main;object=" + label + "?pin-value=" + secretPIN + "&module-path=/nonexistent", PIN: secretPIN}, nil)
	add(err)
	_, err = b.DescribeKey(ctx, plugins.Key{URI: "pkcs11:token=main;object=x?pin-value=" + secretPIN + "%ZZ", PIN: secretPIN})
	add(err)
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, s := range []string{secretPIN, secret, secret[:10]} {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%#v", err), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
}

func TestRecoverPanic(t *testing.T) {
	f := func() (err error) {
		defer recoverPanic("hmac", &err)
		var p *pkcs11.Ctx
		_, err = p.GetSlotList(true) // nil dereference inside the wrapper
		return err
	}
	err := f()
	if !errors.Is(err, plugins.ErrDevice) || !strings.Contains(err.Error(), "internal error in the PKCS#11 wrapper") {
		t.Errorf("got %v, want ErrDevice from a recovered panic", err)
	}
}

// TestForgottenTokenKeepsPINCheck: after an error makes the backend forget a token, the
// token may still be logged in, and C_Login then answers CKR_USER_ALREADY_LOGGED_IN to any
// PIN. The PIN must still be held to the one that logged in.
func TestForgottenTokenKeepsPINCheck(t *testing.T) {
	b := New()
	ctx := context.Background()
	k := key(mainToken, keyLabel(t, ""))
	mat := material(exampleSecret)
	mustImport(t, b, k, mat)
	m, err := loadModule(softhsmtest.ModulePath)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.findToken(&tokenFilter{label: mainToken.Label})
	if err != nil {
		t.Fatal(err)
	}
	m.forget(tok)
	_, err = b.HMAC(ctx, plugins.Key{URI: k.URI, PIN: "wrong-pin-0000"}, []byte("x"))
	if !errors.Is(err, plugins.ErrPINIncorrect) || !strings.Contains(err.Error(), "another PIN") {
		t.Errorf("wrong PIN after forget: %v, want ErrPINIncorrect (another PIN)", err)
	}
	checkKey(t, b, k, mat)
	if again, _ := m.findToken(&tokenFilter{label: mainToken.Label}); again == tok {
		t.Error("the forgotten token entry is still cached")
	}
}

// TestModuleAlias: a symlink to the module is the same module, with the same login. A
// second C_Initialize under another name would track the login twice and, through
// CKR_USER_ALREADY_LOGGED_IN, accept any PIN.
func TestModuleAlias(t *testing.T) {
	b := New()
	ctx := context.Background()
	label := keyLabel(t, "")
	mat := material(exampleSecret)
	mustImport(t, b, key(mainToken, label), mat)
	link := filepath.Join(t.TempDir(), "libalias.so")
	if err := os.Symlink(softhsmtest.ModulePath, link); err != nil {
		t.Fatal(err)
	}
	uri := "pkcs11:token=main;object=" + label + "?module-path=" + link
	checkKey(t, b, plugins.Key{URI: uri, PIN: testPIN}, mat)
	_, err := b.HMAC(ctx, plugins.Key{URI: uri, PIN: "wrong-pin-0000"}, []byte("x"))
	if !errors.Is(err, plugins.ErrPINIncorrect) {
		t.Errorf("wrong PIN through the alias: %v, want ErrPINIncorrect", err)
	}
	real, _ := loadModule(softhsmtest.ModulePath)
	alias, _ := loadModule(link)
	if real != alias {
		t.Error("the alias loaded a second module")
	}
}
