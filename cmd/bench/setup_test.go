// Package bench measures awskeep end to end on this machine, in one run: signing (the SDK's
// software signer against the split signer, in process and over a plugin), HMAC round trips
// through each plugin on its device, plugin start-up, and credential-process wall time
// (cold, warm, concurrent, and the cold path's phases from awskeep's debug log) next to
// reference programs: a shell stub that prints static JSON, a Go hello world, a stdlib JSON
// reader, the STS floor (stdlib SigV4 and one POST) and a PKCS#11 helper that re-initialises
// the module per signature (their sources in testdata/peers). scripts/bench.sh runs it and
// writes bench/results.md.
package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/buildtest"
	"github.com/awskeep/awskeep/core/mototest"
)

var (
	binDir     string // awskeep and awskeep-full, as installed
	goFrontDir string // the Go front, with a hard link of awskeep-full
	pluginDir  string // the plugins
	peerDir    string // the reference programs of testdata/peers
	tmpDir     string
	moto       *mototest.Server
	alice      mototest.User
	roleARN    string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // no benchmarks asked for: build and start nothing
	}
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "bench setup:", err)
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

func setup() error {
	var err error
	if tmpDir, err = os.MkdirTemp("", "awskeep-bench-"); err != nil {
		return err
	}
	binDir, pluginDir = filepath.Join(tmpDir, "bin"), filepath.Join(tmpDir, "plugins")
	goFrontDir = filepath.Join(tmpDir, "gofront")
	peerDir = filepath.Join(tmpDir, "peers")
	const peers = "github.com/awskeep/awskeep/cmd/bench/testdata/peers/"
	for _, b := range []struct{ out, pkg, cgo, tags string }{
		{goFrontDir + "/", "github.com/awskeep/awskeep/cmd/awskeep", "0", ""},
		{binDir + "/", "github.com/awskeep/awskeep/cmd/awskeep-full", "0", ""},
		{pluginDir + "/", "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example", "0", ""},
		{pluginDir + "/", "github.com/awskeep/awskeep/plugin-softhsm/cmd/awskeep-plugin-pkcs11", "1", ""},
		{pluginDir + "/", "github.com/awskeep/awskeep/plugin-tpm/cmd/awskeep-plugin-tpm", "1", ""},
		{pluginDir + "/", "github.com/awskeep/awskeep/plugin-yubihsm/cmd/awskeep-plugin-yubihsm", "0", ""},
		{pluginDir + "/", "github.com/awskeep/awskeep/plugin-tink/cmd/awskeep-plugin-tink", "0", ""},
		{peerDir + "/", peers + "hello", "0", ""},
		{peerDir + "/", peers + "jsonreader", "0", ""},
		{peerDir + "/", peers + "stsfloor", "0", ""},
		{peerDir + "/", peers + "hoststart", "0", ""},
		{filepath.Join(peerDir, "pkcs11reinit"), peers + "stsfloor", "1", "pkcs11"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-tags="+b.tags, "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	// awskeep as installed here: the C front on linux (cmd/cfront), next to awskeep-full;
	// the Go front (cmd/awskeep, the front elsewhere) beside a hard link of the same
	// awskeep-full, for the comparison.
	if runtime.GOOS == "linux" {
		if err := buildtest.BuildCFront(".", binDir); err != nil {
			return err
		}
	} else if err := os.Link(filepath.Join(goFrontDir, "awskeep"), filepath.Join(binDir, "awskeep")); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(binDir, "awskeep-full"), filepath.Join(goFrontDir, "awskeep-full")); err != nil {
		return err
	}
	ctx := context.Background()
	if moto, err = mototest.StartServer(ctx, tmpDir); err != nil {
		return err
	}
	if alice, err = moto.CreateUser(ctx, "alice", true); err != nil {
		return err
	}
	if roleARN, err = moto.CreateRole(ctx, "deployer", alice.ARN); err != nil {
		return err
	}
	return moto.EnableAuth(ctx)
}

// benchDevice is a named way to get a device, one row of a benchmark over backends.
type benchDevice struct {
	name string
	open func(*testing.B) device
}

// hmacDevices are further rows of BenchmarkPluginHMAC, added by the files of backends
// whose set-up needs more than the built-in ones (tink_test.go).
var hmacDevices []benchDevice

// latencies records one duration per iteration and reports percentiles next to ns/op.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(s[len(s)/2]), "p50-ms")
	b.ReportMetric(ms(s[len(s)*9/10]), "p90-ms")
}
