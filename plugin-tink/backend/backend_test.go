package backend_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"

	"github.com/awskeep/awskeep/plugin-tink/backend"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

var ctx = context.Background()

// secret is the AWS secret the tests import; it must never appear in a file but the
// encrypted keyset (and there only encrypted), nor in any error.
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTINKTEST01"

var material = []byte("AWS4" + secret)

// uri names a keyset in dir wrapped by kek, reaching moto's KMS as profile.
func uri(file, kek, profile string) string {
	if world.moto == nil {
		panic("moto is not running: TestMain does not start it for -test.list or -fuzz with -run '^$'")
	}
	return fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s&profile=%s", file, kek, world.moto.URL, profile)
}

var seq atomic.Int64

// newKey is a fresh keyset file in dir, wrapped by key A.
func newKey(dir string) plugins.Key {
	return plugins.Key{URI: uri(filepath.Join(dir, fmt.Sprintf("kit-%d.keyset.json", seq.Add(1))), world.keyA, "kms")}
}

func kitConfig(t *testing.T, b plugins.Backend) conformance.Config {
	dir := t.TempDir()
	return conformance.Config{Backend: b, NewKey: func(*testing.T) plugins.Key { return newKey(dir) }}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, kitConfig(t, backend.New()))
}

func TestConformanceOverGRPC(t *testing.T) {
	bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugin-tink/cmd/awskeep-plugin-tink")
	// The plugin sees AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE only because
	// $AWSKEEP_PLUGIN_ENV (set in TestMain) lists them: the host passes no AWS_* by default.
	conformance.Run(t, kitConfig(t, conformance.LaunchPlugin(t, bin)))
}

func softwareHMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// countingKMS counts the KMS calls a Backend makes.
type countingKMS struct {
	awskms.KMSAPI
	encrypts, decrypts atomic.Int64
}

func (c *countingKMS) Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	c.encrypts.Add(1)
	return c.KMSAPI.Encrypt(ctx, in, opts...)
}

func (c *countingKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	c.decrypts.Add(1)
	return c.KMSAPI.Decrypt(ctx, in, opts...)
}

func counted() (*backend.Backend, *countingKMS) {
	c := &countingKMS{}
	var once sync.Once
	b := backend.New(func(o *backend.Options) {
		o.NewKMS = func(ctx context.Context, region, endpoint, profile string) (awskms.KMSAPI, error) {
			var err error
			once.Do(func() { c.KMSAPI, err = backend.DefaultKMS(ctx, region, endpoint, profile) })
			return c, err
		}
	})
	return b, c
}

// checkNoSecret fails if s holds the secret in clear or base64.
func checkNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, form := range []string{secret, base64.StdEncoding.EncodeToString(material), base64.StdEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(s, form) {
			t.Fatalf("%s holds the secret", what)
		}
	}
}

func TestImportHMACDescribe(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "prod.keyset.json")
	key := plugins.Key{URI: uri(file, world.keyA, "kms")}
	importer, calls := counted()
	if err := importer.ImportKey(ctx, key, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if e, d := calls.encrypts.Load(), calls.decrypts.Load(); e != 1 || d != 1 {
		t.Fatalf("import made %d Encrypt and %d Decrypt calls, want 1 and 1 (the read-back check)", e, d)
	}

	// The file: mode 0600, Tink's EncryptedKeyset JSON naming one HMAC key, nothing in clear.
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyset mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	checkNoSecret(t, "the keyset file", string(data))
	var ek struct {
		EncryptedKeyset string `json:"encryptedKeyset"`
		KeysetInfo      struct {
			PrimaryKeyID uint32 `json:"primaryKeyId"`
			KeyInfo      []struct {
				TypeURL          string `json:"typeUrl"`
				Status           string `json:"status"`
				OutputPrefixType string `json:"outputPrefixType"`
			} `json:"keyInfo"`
		} `json:"keysetInfo"`
	}
	if err := json.Unmarshal(data, &ek); err != nil {
		t.Fatalf("keyset file is not JSON: %v", err)
	}
	if ek.EncryptedKeyset == "" || len(ek.KeysetInfo.KeyInfo) != 1 ||
		ek.KeysetInfo.KeyInfo[0].TypeURL != "type.googleapis.com/google.crypto.tink.HmacKey" ||
		ek.KeysetInfo.KeyInfo[0].OutputPrefixType != "RAW" || ek.KeysetInfo.KeyInfo[0].Status != "ENABLED" {
		t.Fatalf("keyset file: %s", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the directory holds %d entries after import, want only the keyset (no temporary file)", len(entries))
	}

	// A new process (a new Backend) decrypts once, then answers from memory.
	b, calls := counted()
	for _, msg := range []string{"20150830", "20261130", "", "aws4_request"} {
		tag, err := b.HMAC(ctx, key, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tag, softwareHMAC(material, []byte(msg))) {
			t.Fatalf("HMAC(%q) = %x, want %x", msg, tag, softwareHMAC(material, []byte(msg)))
		}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := b.HMAC(ctx, key, []byte("x")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.decrypts.Load(); n != 1 {
		t.Fatalf("%d KMS Decrypt calls for 20 HMACs, want 1", n)
	}

	d, err := b.DescribeKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Exists || d.Algorithm != plugins.AlgorithmHMACSHA256 || !d.Extractable || d.Sensitive ||
		d.Attributes["protection"] != backend.Protection || d.Attributes["kek"] != world.keyA ||
		d.Attributes["file-mode"] != "0600" || d.Attributes["key-size"] != "44" || d.Label != "prod.keyset.json" {
		t.Fatalf("DescribeKey = %+v", d)
	}
	info, _ := b.Info(ctx)
	if len(info.Capabilities) != 1 || info.Capabilities[0] != plugins.CapabilitySoftwareWrapped {
		t.Fatalf("Info.Capabilities = %v", info.Capabilities)
	}

	// Another process replaces the keyset: the next HMAC notices the new file.
	other := []byte("AWS4" + strings.Repeat("B", 40))
	if err := importer.ImportKey(ctx, key, other, plugins.ImportOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	tag, err := b.HMAC(ctx, key, []byte("20150830"))
	if err != nil || !bytes.Equal(tag, softwareHMAC(other, []byte("20150830"))) {
		t.Fatalf("HMAC after the keyset was replaced = %x, %v", tag, err)
	}
	if n := calls.decrypts.Load(); n != 2 {
		t.Fatalf("%d KMS Decrypt calls, want 2 (one per file version)", n)
	}
}

func TestOtherKMSKeyRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.keyset.json")
	if err := backend.New().ImportKey(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(file)
	wrong := plugins.Key{URI: uri(file, world.keyB, "kms")}
	b := backend.New()
	_, err := b.HMAC(ctx, wrong, []byte("20150830"))
	// Real KMS answers IncorrectKeyException (ErrInvalidKeyURI); moto answers
	// AccessDeniedException (ErrPermissionDenied). Both name the other key as the cause.
	if !(errors.Is(err, plugins.ErrPermissionDenied) || errors.Is(err, plugins.ErrInvalidKeyURI)) || !strings.Contains(err.Error(), "another KMS key") {
		t.Fatalf("HMAC with another KEK: %v; want a refusal naming another KMS key", err)
	}
	checkNoSecret(t, "the error", err.Error())
	if _, err := b.DescribeKey(ctx, wrong); err == nil {
		t.Fatal("DescribeKey with another KEK succeeded")
	}
	after, _ := os.ReadFile(file)
	if !bytes.Equal(before, after) {
		t.Fatal("the refused keyset file changed")
	}
	// The right key still opens it, in the same process.
	if tag, err := b.HMAC(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, []byte("m")); err != nil || !bytes.Equal(tag, softwareHMAC(material, []byte("m"))) {
		t.Fatalf("HMAC with the right KEK = %x, %v", tag, err)
	}
}

func TestKMSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "k.keyset.json")
	if err := backend.New().ImportKey(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	unreachable := func(f string) plugins.Key {
		return plugins.Key{URI: fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s&profile=kms", f, world.keyA, down)}
	}
	b := backend.New()
	_, err = b.HMAC(ctx, unreachable(file), []byte("20150830"))
	if !errors.Is(err, plugins.ErrDeviceUnavailable) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("HMAC with KMS down: %v, want ErrDeviceUnavailable", err)
	}
	fresh := filepath.Join(dir, "new.keyset.json")
	err = b.ImportKey(ctx, unreachable(fresh), material, plugins.ImportOptions{})
	if !errors.Is(err, plugins.ErrDeviceUnavailable) {
		t.Fatalf("import with KMS down: %v, want ErrDeviceUnavailable", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed import left a file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the directory holds %d entries, want the one keyset", len(entries))
	}
}

func TestTamperedKeyset(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.keyset.json")
	if err := backend.New().ImportKey(ctx, plugins.Key{URI: uri(good, world.keyA, "kms")}, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	ct, _ := base64.StdEncoding.DecodeString(doc["encryptedKeyset"].(string))

	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		d := map[string]any{"encryptedKeyset": base64.StdEncoding.EncodeToString(c), "keysetInfo": doc["keysetInfo"]}
		out, _ := json.Marshal(d)
		return out
	}
	tests := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"ciphertext bit flipped", flip(len(ct) - 1), plugins.ErrDevice, "altered"},
		{"ciphertext header bit flipped", flip(len(ct) / 2), plugins.ErrDevice, ""},
		{"not JSON", []byte("not a keyset"), plugins.ErrDevice, "not a keyset awskeep wrote"},
		{"empty", nil, plugins.ErrDevice, "not a keyset awskeep wrote"},
		{"cleartext keyset", []byte(`{"primaryKeyId":1,"key":[]}`), plugins.ErrDevice, "not a keyset awskeep wrote"},
		{"truncated", data[:len(data)/2], plugins.ErrDevice, "not a keyset awskeep wrote"},
		{"too large", bytes.Repeat([]byte(" "), 70<<10), plugins.ErrDevice, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(file, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := backend.New().HMAC(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, []byte("20150830"))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("HMAC of a tampered keyset: %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			checkNoSecret(t, "the error", err.Error())
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.keyset.json")
	b := backend.New()
	if err := b.ImportKey(ctx, plugins.Key{URI: uri(existing, world.keyA, "kms")}, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	unknownKey := strings.Replace(world.keyA, ":key/", ":key/00000000-", 1)
	tests := []struct {
		name string
		op   func() error
		want error
		text string
	}{
		{"missing keyset", func() error {
			_, err := b.HMAC(ctx, plugins.Key{URI: uri(filepath.Join(dir, "none.json"), world.keyA, "kms")}, nil)
			return err
		}, plugins.ErrKeyNotFound, "import the key first"},
		{"import over a keyset", func() error {
			return b.ImportKey(ctx, plugins.Key{URI: uri(existing, world.keyA, "kms")}, material, plugins.ImportOptions{})
		}, plugins.ErrKeyExists, "--force"},
		{"import into a missing directory", func() error {
			return b.ImportKey(ctx, plugins.Key{URI: uri(filepath.Join(dir, "no", "k.json"), world.keyA, "kms")}, material, plugins.ImportOptions{})
		}, plugins.ErrInvalidKeyURI, "create it"},
		{"material too short", func() error {
			return b.ImportKey(ctx, plugins.Key{URI: uri(filepath.Join(dir, "short.json"), world.keyA, "kms")}, []byte("AWS4short"), plugins.ImportOptions{})
		}, plugins.ErrUnsupported, "at least 16"},
		{"credentials without KMS rights", func() error {
			_, err := backend.New().HMAC(ctx, plugins.Key{URI: uri(existing, world.keyA, "denied")}, nil)
			return err
		}, plugins.ErrPermissionDenied, "kms:Decrypt"},
		{"no credentials", func() error {
			// No profile=, no default profile in the files, no instance metadata.
			noProfile := fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=%s", existing, world.keyA, world.moto.URL)
			_, err := backend.New().HMAC(ctx, plugins.Key{URI: noProfile}, nil)
			return err
		}, plugins.ErrPermissionDenied, "AWSKEEP_PLUGIN_ENV"},
		{"profile missing", func() error {
			_, err := backend.New().HMAC(ctx, plugins.Key{URI: uri(existing, world.keyA, "nobody")}, nil)
			return err
		}, plugins.ErrInvalidKeyURI, "profile="},
		{"KMS key unknown", func() error {
			return b.ImportKey(ctx, plugins.Key{URI: uri(filepath.Join(dir, "unknown.json"), unknownKey, "kms")}, material, plugins.ImportOptions{})
		}, plugins.ErrInvalidKeyURI, "KMS has no key"},
		{"delete missing", func() error {
			return b.DeleteKey(ctx, plugins.Key{URI: uri(filepath.Join(dir, "none.json"), world.keyA, "kms")})
		}, plugins.ErrKeyNotFound, ""},
		{"message too large", func() error {
			_, err := b.HMAC(ctx, plugins.Key{URI: uri(existing, world.keyA, "kms")}, make([]byte, plugins.MaxMessageSize+1))
			return err
		}, plugins.ErrMessageTooLarge, "4096"},
		{"bad URI", func() error {
			_, err := b.HMAC(ctx, plugins.Key{URI: "tink:file=relative.json?kek=" + world.keyA}, nil)
			return err
		}, plugins.ErrInvalidKeyURI, "absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			checkNoSecret(t, "the error", err.Error())
		})
	}
	for _, f := range []string{"short.json", "unknown.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a failed import left %s", f)
		}
	}
}

func TestDeleteNeedsNoKMS(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.json")
	b := backend.New()
	if err := b.ImportKey(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, material, plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteKey(ctx, plugins.Key{URI: fmt.Sprintf("tink:file=%s?kek=%s&kms-endpoint=http://127.0.0.1:1", file, world.keyA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.HMAC(ctx, plugins.Key{URI: uri(file, world.keyA, "kms")}, nil); !errors.Is(err, plugins.ErrKeyNotFound) {
		t.Fatalf("HMAC after delete from the cache: %v", err)
	}
}

// BenchmarkHMAC is one kDate from a keyset already decrypted: the plugin's cost per
// signature after its first (a stat of the file and Tink's HMAC-SHA256).
func BenchmarkHMAC(b *testing.B) {
	file := filepath.Join(b.TempDir(), "bench.keyset.json")
	key := plugins.Key{URI: uri(file, world.keyA, "kms")}
	be := backend.New()
	if err := be.ImportKey(ctx, key, material, plugins.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	msg := []byte("20150830")
	for b.Loop() {
		if _, err := be.HMAC(ctx, key, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstHMAC is the first kDate of a plugin process: read the file, KMS Decrypt on
// moto (a loopback HTTP round trip, SigV4 checked), parse the keyset, HMAC.
func BenchmarkFirstHMAC(b *testing.B) {
	file := filepath.Join(b.TempDir(), "bench.keyset.json")
	key := plugins.Key{URI: uri(file, world.keyA, "kms")}
	if err := backend.New().ImportKey(ctx, key, material, plugins.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	clients := map[string]awskms.KMSAPI{}
	newKMS := func(ctx context.Context, region, endpoint, profile string) (awskms.KMSAPI, error) {
		if c, ok := clients[profile]; ok {
			return c, nil // the KMS client's set-up is not what is measured
		}
		c, err := backend.DefaultKMS(ctx, region, endpoint, profile)
		clients[profile] = c
		return c, err
	}
	msg := []byte("20150830")
	for b.Loop() {
		be := backend.New(func(o *backend.Options) { o.NewKMS = newKMS })
		if _, err := be.HMAC(ctx, key, msg); err != nil {
			b.Fatal(err)
		}
	}
}
