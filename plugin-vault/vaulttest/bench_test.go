package vaulttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugins"
)

// The Vault backend's rows of `make bench`. They live here, not in cmd/bench, because
// Vault's dependency graph must never reach cmd's go.mod; scripts/bench.sh runs them in the
// same `make bench` (GOWORK=off) and merges their lines into bench/results.txt, so the names
// and metrics are cmd/bench's: BenchmarkPluginHMAC/NAME (ns/op) and
// BenchmarkCredentialProcess/NAME (ns/op, p50-ms, p90-ms).

// BenchmarkPluginHMAC is cmd/bench's row for Vault transit: one HMAC over an 8-byte date
// from the host through gRPC to awskeep-plugin-vault, then one POST transit/hmac/NAME to a
// real in-process Vault on loopback (through the test's counting proxy), and back.
func BenchmarkPluginHMAC(b *testing.B) {
	b.Run("vault-transit", func(b *testing.B) {
		v := startVault(b)
		ctx := context.Background()
		p, err := plugins.Launch(ctx, pluginBin)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.Close)
		name := newName("bench")
		mat, _ := material()
		if err := p.ImportKey(ctx, v.keyFor(name, v.Token("awskeep-admin")), mat, plugins.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		key := v.keyFor(name, v.Token("awskeep-use"))
		for b.Loop() {
			if _, err := p.HMAC(ctx, key, []byte("20261124")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCredentialProcess is cmd/bench's cold row for Vault: the wall time of one
// `awskeep credential-process --no-cache` (AssumeRole against moto, which checks the
// signature), as the AWS CLI runs it: a fresh process that starts the plugin, whose one
// HMAC is a transit call, then STS.
func BenchmarkCredentialProcess(b *testing.B) {
	b.Run("vault-cold", func(b *testing.B) {
		v := startVault(b)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		tmp := b.TempDir()
		moto, err := mototest.StartServer(ctx, tmp)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(moto.Stop)
		alice, err := moto.CreateUser(ctx, "alice", true)
		if err != nil {
			b.Fatal(err)
		}
		roleARN, err := moto.CreateRole(ctx, "deployer", alice.ARN)
		if err != nil {
			b.Fatal(err)
		}
		if err := moto.EnableAuth(ctx); err != nil {
			b.Fatal(err)
		}
		binDir, pluginDir := filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins")
		if err := goBuild(filepath.Join(repoRoot, "cmd"), binDir, "./awskeep", "./awskeep-full"); err != nil {
			b.Fatal(err)
		}
		if err := goBuild(filepath.Join(repoRoot, "plugin-vault"), pluginDir, "./cmd/awskeep-plugin-vault"); err != nil {
			b.Fatal(err)
		}
		awskeep := filepath.Join(binDir, "awskeep")
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "XDG_CACHE_HOME=" + filepath.Join(tmp, "cache"),
			"AWSKEEP_PLUGIN_DIR=" + pluginDir}
		tokenFile := func(name, token string) string {
			path := filepath.Join(tmp, name)
			if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
				b.Fatal(err)
			}
			return path
		}
		name := newName("bench-cold")
		admin := v.URI(name) + "&pin-source=file:" + tokenFile("admin-token", v.Token("awskeep-admin"))
		use := v.URI(name) + "&pin-source=file:" + tokenFile("use-token", v.Token("awskeep-use"))
		imp := exec.Command(awskeep, "import", "--key", admin)
		imp.Env = env
		imp.Stdin = strings.NewReader(alice.SecretAccessKey + "\n")
		if out, err := imp.CombinedOutput(); err != nil {
			b.Fatalf("awskeep import: %v: %s", err, out)
		}
		args := []string{"credential-process", "--key", use, "--access-key-id", alice.AccessKeyID, "--role-arn", roleARN,
			"--role-session-name", "bench", "--endpoint-url", moto.URL, "--no-cache"}
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			c := exec.Command(awskeep, args...)
			c.Env = env
			out, err := c.Output()
			if err != nil || !strings.HasPrefix(string(out), `{"Version":1`) {
				msg := ""
				if ee, ok := err.(*exec.ExitError); ok {
					msg = string(ee.Stderr)
				}
				b.Fatalf("credential-process: %v %s", err, msg)
			}
			lat = append(lat, time.Since(start))
		}
		report(b, lat)
	})
}

// report adds the p50 and p90 of lat in milliseconds, as cmd/bench's latencies do.
func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(s[len(s)/2]), "p50-ms")
	b.ReportMetric(ms(s[len(s)*9/10]), "p90-ms")
}
