package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/awskeep/awskeep/plugin-yubihsm/sim"
	"github.com/awskeep/awskeep/plugins"
)

// device is one backend's plugin with a key imported into its device.
type device struct {
	name string
	env  []string
	key  plugins.Key
}

const benchPIN = "4913-bench"

func softhsmDevice(b *testing.B) device {
	b.Helper()
	env := softhsmtest.TempEnv(b)
	tok := env.NewToken(b, "bench", benchPIN)
	return device{name: "pkcs11", env: env.Environ(), key: plugins.Key{URI: tok.KeyURI("bench"), PIN: benchPIN}}
}

func swtpmDevice(b *testing.B) device {
	b.Helper()
	tpm := swtpmtest.Start(b)
	return device{name: "tpm", key: plugins.Key{URI: "tpm:handle=0x81010002?device=" + tpm.Device, PIN: benchPIN}}
}

func yubihsmDevice(b *testing.B) device {
	b.Helper()
	d, err := sim.New()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := sim.Listen(d, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return device{name: "yubihsm", key: plugins.Key{URI: "yubihsm:object-id=0x0010?connector=http://" + srv.Addr() + "&auth-key-id=1", PIN: "password"}}
}

// BenchmarkPluginHMAC is the device round trip awskeep makes per signing key: HMAC over an
// 8-byte date, from the host through gRPC to the plugin, the device and back.
func BenchmarkPluginHMAC(b *testing.B) {
	devices := []benchDevice{
		{"example-memory", func(*testing.B) device { return device{name: "example", key: plugins.Key{URI: "example:name=bench"}} }},
		{"pkcs11-softhsm", softhsmDevice},
		{"tpm-swtpm", swtpmDevice},
		{"yubihsm-sim", yubihsmDevice},
	}
	for _, d := range append(devices, hmacDevices...) {
		b.Run(d.name, func(b *testing.B) {
			dev := d.open(b)
			p := launch(b, dev.name, dev.env...)
			importKey(b, p, dev.key)
			ctx := context.Background()
			for b.Loop() {
				if _, err := p.HMAC(ctx, dev.key, []byte("20261124")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPluginLaunch is plugin start to first answer: exec, go-plugin handshake, gRPC
// connection on the peer-checked unix socket (AutoMTLS where there is no SO_PEERCRED), Info.
func BenchmarkPluginLaunch(b *testing.B) {
	for _, name := range []string{"example", "pkcs11"} {
		b.Run(name, func(b *testing.B) {
			var lat latencies
			for b.Loop() {
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				p, err := plugins.Launch(ctx, filepath.Join(pluginDir, "awskeep-plugin-"+name))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Info(ctx); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				p.Close()
				cancel()
			}
			lat.report(b)
		})
	}
}
