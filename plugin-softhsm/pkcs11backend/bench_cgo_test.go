//go:build cgo

package pkcs11backend

import (
	"context"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

// BenchmarkHMAC measures one kDate computation (an 8-byte message): in process, where the
// cost is SoftHSM's (key lookup, C_SignInit, C_Sign), and through the plugin subprocess,
// which adds a gRPC round trip. Parallel runs 8 callers at once per GOMAXPROCS.
func BenchmarkHMAC(b *testing.B) {
	ctx := context.Background()
	k := key(benchToken, "bench")
	setup := New()
	if err := setup.ImportKey(ctx, k, material(exampleSecret), plugins.ImportOptions{Overwrite: true}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = setup.DeleteKey(ctx, k) })
	msg := []byte("20150830")

	run := func(b *testing.B, be plugins.Backend) {
		b.Run("Serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := be.HMAC(ctx, k, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Parallel", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := be.HMAC(ctx, k, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	b.Run("InProcess", func(b *testing.B) { run(b, setup) })
	b.Run("Plugin", func(b *testing.B) {
		p := launch(b)
		b.Cleanup(p.Close)
		run(b, p)
	})
}

// BenchmarkImportDelete measures storing and removing a key (token object files for SoftHSM).
func BenchmarkImportDelete(b *testing.B) {
	ctx := context.Background()
	be := New()
	k := key(benchToken, "import")
	mat := material(exampleSecret)
	for b.Loop() {
		if err := be.ImportKey(ctx, k, mat, plugins.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := be.DeleteKey(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}
