package tpm_test

import (
	"context"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

// benchHMAC measures one kDate derivation (an 8-byte message) per iteration: device open,
// key lookup or load, authorization session, TPM2_HMAC, flush, close.
func benchHMAC(b *testing.B, backend plugins.Backend, k plugins.Key) {
	ctx := context.Background()
	mustImport(b, backend, k, material)
	msg := []byte("20150830")
	b.ResetTimer()
	for b.Loop() {
		if _, err := backend.HMAC(ctx, k, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHMAC(b *testing.B) {
	for _, tgt := range targets {
		for _, kind := range keyKinds {
			b.Run(tgt.name+"/"+kind.name, func(b *testing.B) {
				tg := tgt.new(b)
				benchHMAC(b, tg.backend, kind.new(tg, b, "pw"))
			})
		}
	}
	b.Run("swtpm/handle+pcr-policy", func(b *testing.B) {
		tg := swtpm(b)
		benchHMAC(b, tg.backend, withQuery(tg.handleKey(b, "pw"), "pcrs=sha256:7"))
	})
	b.Run("swtpm/handle/4KiB", func(b *testing.B) {
		tg := swtpm(b)
		k := tg.handleKey(b, "pw")
		mustImport(b, tg.backend, k, material)
		msg := make([]byte, plugins.MaxMessageSize)
		for b.Loop() {
			if _, err := tg.backend.HMAC(context.Background(), k, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHMACPlugin measures the same through the awskeep-plugin-tpm binary over gRPC.
func BenchmarkHMACPlugin(b *testing.B) {
	bin := conformance.BuildPlugin(b, pluginPkg)
	for _, kind := range keyKinds {
		b.Run("swtpm/"+kind.name, func(b *testing.B) {
			tg := swtpm(b)
			benchHMAC(b, conformance.LaunchPlugin(b, bin), kind.new(tg, b, "pw"))
		})
	}
}

func BenchmarkImportKey(b *testing.B) {
	tg := swtpm(b)
	ctx := context.Background()
	k := tg.handleKey(b, "pw")
	for b.Loop() {
		if err := tg.backend.ImportKey(ctx, k, material, plugins.ImportOptions{Overwrite: true}); err != nil {
			b.Fatal(err)
		}
	}
}
