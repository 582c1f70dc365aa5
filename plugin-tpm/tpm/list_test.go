package tpm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugins"
)

// TestListKeys lists persistent handles and key files on each target: the keys awskeep
// imported, with URIs that compute their HMACs, and nothing else that is there (a
// persistent storage key, other files).
func TestListKeys(t *testing.T) {
	ctx := context.Background()
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			t.Run("handles", func(t *testing.T) {
				keys := []plugins.Key{tg.handleKey(t, "pw1"), tg.handleKey(t, "pw2")}
				for _, k := range keys {
					mustImport(t, tg.backend, k, material)
					t.Cleanup(func() { _ = tg.backend.DeleteKey(context.Background(), k) })
				}
				// A storage key at a persistent handle is not an awskeep key.
				const srkHandle = 0x81000001
				tg.direct(t, func(tp transport.TPM) {
					srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tp)
					if err != nil {
						t.Fatal(err)
					}
					defer func() { _, _ = tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tp) }()
					_, err = tpm2.EvictControl{
						Auth:             tpm2.TPMRHOwner,
						ObjectHandle:     tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
						PersistentHandle: srkHandle,
					}.Execute(tp)
					if err != nil {
						t.Fatal(err)
					}
				})
				for _, uri := range []string{"tpm:" + tg.query, keys[0].URI} {
					got, err := tg.backend.ListKeys(ctx, plugins.Key{URI: uri})
					if err != nil {
						t.Fatalf("ListKeys(%s): %v", uri, err)
					}
					var uris []string
					for _, e := range got {
						uris = append(uris, e.URI)
						if !e.Created.IsZero() || e.Attributes["auth"] != "password" || e.Attributes["handle"] == "" {
							t.Errorf("entry %+v: want no date (a TPM records none), auth password, a handle", e)
						}
					}
					if want := []string{keys[0].URI, keys[1].URI}; strings.Join(uris, " ") != strings.Join(want, " ") {
						t.Fatalf("ListKeys(%s) = %q, want %q (not the storage key at 0x%x)", uri, uris, want, srkHandle)
					}
				}
				for i, k := range keys {
					mac, err := tg.backend.HMAC(ctx, plugins.Key{URI: k.URI, PIN: fmt.Sprintf("pw%d", i+1)}, []byte("20150830"))
					if err != nil || !bytes.Equal(mac, softHMAC(material, []byte("20150830"))) {
						t.Fatalf("HMAC through %s: %x, %v", k.URI, mac, err)
					}
				}
			})
			t.Run("files", func(t *testing.T) {
				dir := t.TempDir()
				mtime := time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
				var want []string
				for _, name := range []string{"b.tss2.pem", "a.pem"} {
					path := filepath.Join(dir, name)
					k := plugins.Key{URI: "tpm:file=" + path + tg.query, PIN: "pw"}
					mustImport(t, tg.backend, k, material)
					if err := os.Chtimes(path, mtime, mtime); err != nil {
						t.Fatal(err)
					}
					want = append([]string{k.URI}, want...) // sorted by name: a.pem first
				}
				// Neither other files, nor a half-written import, nor a directory.
				for name, data := range map[string]string{
					"notes.txt": "not a key", ".a.pem.123.tmp": "-----BEGIN TSS2 PRIVATE KEY-----\n",
					"broken.pem": "-----BEGIN TSS2 PRIVATE KEY-----\nnot base64\n-----END TSS2 PRIVATE KEY-----\n",
				} {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Mkdir(filepath.Join(dir, "sub.pem"), 0o700); err != nil {
					t.Fatal(err)
				}
				for _, uri := range []string{"tpm:dir=" + dir + tg.query, want[1]} {
					got, err := tg.backend.ListKeys(ctx, plugins.Key{URI: uri})
					if err != nil {
						t.Fatalf("ListKeys(%s): %v", uri, err)
					}
					var uris []string
					for _, e := range got {
						uris = append(uris, e.URI)
						if !e.Created.Equal(mtime) || e.Label != filepath.Base(e.Attributes["file"]) {
							t.Errorf("entry %+v: want Created %v (the file's modification time) and the file name as label", e, mtime)
						}
					}
					if strings.Join(uris, " ") != strings.Join(want, " ") {
						t.Fatalf("ListKeys(%s) = %q, want %q", uri, uris, want)
					}
					for _, u := range uris {
						mac, err := tg.backend.HMAC(ctx, plugins.Key{URI: u, PIN: "pw"}, []byte("20150830"))
						if err != nil || !bytes.Equal(mac, softHMAC(material, []byte("20150830"))) {
							t.Fatalf("HMAC through %s: %x, %v", u, mac, err)
						}
					}
				}
				_, err := tg.backend.ListKeys(ctx, plugins.Key{URI: "tpm:dir=" + filepath.Join(dir, "missing") + tg.query})
				if !errors.Is(err, plugins.ErrKeyNotFound) {
					t.Fatalf("ListKeys of a missing directory: %v, want ErrKeyNotFound", err)
				}
			})
			tg.requireNothingLoaded(t)
		})
	}
	t.Run("bad URIs", func(t *testing.T) {
		b := simulator(t).backend
		for _, uri := range []string{"tpm:dir=/a;file=/b", "tpm:handle=0x01", "pkcs11:token=a"} {
			if _, err := b.ListKeys(ctx, plugins.Key{URI: uri}); !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Errorf("ListKeys(%s): %v, want ErrInvalidKeyURI", uri, err)
			}
		}
		// dir= names where keys are, not a key.
		if _, err := b.HMAC(ctx, plugins.Key{URI: "tpm:dir=/etc"}, []byte("x")); !errors.Is(err, plugins.ErrInvalidKeyURI) {
			t.Errorf("HMAC of a dir= URI: %v, want ErrInvalidKeyURI", err)
		}
	})
}
