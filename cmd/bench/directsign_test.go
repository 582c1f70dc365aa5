package bench

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/devicesign"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

// BenchmarkDirectSign is direct signing as an integrator's Go program does it
// (core/devicesign), next to aws-sdk-go-v2's software signer with the secret in memory, by
// 1 and 8 goroutines: the STS request of BenchmarkSign, signed at the current time so that
// the derived-key cache (which forgets keys of ended days) is in play. The device is a
// SoftHSM2 token behind the pkcs11 plugin. "nocache" asks the device for every signature;
// its device-ops/req metric must be 1.
func BenchmarkDirectSign(b *testing.B) {
	ctx := context.Background()
	now := time.Now().UTC()
	sdk := v4.NewSigner()
	sdkCreds := aws.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
	for _, g := range []int{1, 8} {
		b.Run(fmt.Sprintf("sdk-software/goroutines-%d", g), func(b *testing.B) {
			inParallel(b, g, func() error {
				r, hash := stsRequest()
				return sdk.SignHTTP(ctx, sdkCreds, r, hash, "sts", "us-east-1", now)
			})
		})
		b.Run(fmt.Sprintf("devicesign-pkcs11-cache/goroutines-%d", g), func(b *testing.B) {
			key := openBenchKey(b, false)
			inParallel(b, g, func() error {
				r, hash := stsRequest()
				return key.SignHTTP(ctx, r, hash, "sts", "us-east-1", now)
			})
			b.ReportMetric(float64(key.DeviceOperations()), "device-ops")
		})
	}
	b.Run("devicesign-pkcs11-nocache/goroutines-1", func(b *testing.B) {
		key := openBenchKey(b, true)
		start := key.DeviceOperations()
		inParallel(b, 1, func() error {
			r, hash := stsRequest()
			return key.SignHTTP(ctx, r, hash, "sts", "us-east-1", now)
		})
		b.ReportMetric(float64(key.DeviceOperations()-start)/float64(b.N), "device-ops/req")
	})
}

// openBenchKey imports benchSecret into a fresh SoftHSM2 token and opens it with devicesign.
func openBenchKey(b *testing.B, noCache bool) *devicesign.Key {
	b.Helper()
	return openKey(b, benchSecret, engine.Settings{AccessKeyID: benchAKID, Region: "us-east-1"}, noCache)
}

// openKey imports secret into a fresh SoftHSM2 token and opens it with devicesign for
// settings s (its Key is the token's).
func openKey(b *testing.B, secret string, s engine.Settings, noCache bool) *devicesign.Key {
	b.Helper()
	dev := softhsmDevice(b)
	for _, kv := range dev.env { // the plugin inherits SOFTHSM2_CONF from this process
		name, value, _ := strings.Cut(kv, "=")
		b.Setenv(name, value)
	}
	ctx := context.Background()
	hostOpts := pluginhost.Options{Dir: pluginDir}
	pool := pluginhost.NewPool(nil, hostOpts)
	err := pool.ImportKey(ctx, dev.key, devicekey.Material(secret), plugins.ImportOptions{Overwrite: true})
	pool.Close()
	if err != nil {
		b.Fatal(err)
	}
	getenv := func(name string) string {
		if name == "AWSKEEP_PIN" {
			return dev.key.PIN
		}
		return ""
	}
	s.Key = dev.key.URI
	s, err = engine.Resolve(s, nil, getenv)
	if err != nil {
		b.Fatal(err)
	}
	key, err := devicesign.OpenSettings(ctx, s, devicesign.Options{Plugins: hostOpts, Getenv: getenv, NoPrompt: true, NoSigningKeyCache: noCache})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { key.Close() })
	return key
}

// inParallel runs b.N calls of op spread over g goroutines and reports the throughput.
func inParallel(b *testing.B, g int, op func() error) {
	b.Helper()
	b.ReportAllocs()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	// Each run starts from a collected heap, so that garbage left by the previous
	// sub-benchmark (or the key's set-up) is not charged to this one.
	runtime.GC()
	b.ResetTimer()
	start := time.Now()
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
