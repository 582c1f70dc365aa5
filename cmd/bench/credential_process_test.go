package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/engine"
)

// cli is awskeep as the AWS CLI runs it: a fresh process per credential request.
type cli struct {
	env  []string
	args []string
}

func newCLI(b *testing.B, dev device) cli {
	b.Helper()
	home := b.TempDir()
	env := append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"AWSKEEP_PLUGIN_DIR=" + pluginDir, "AWSKEEP_PIN=" + dev.key.PIN,
	}, dev.env...)
	c := cli{env: env, args: []string{"credential-process", "--key", dev.key.URI, "--access-key-id", alice.AccessKeyID,
		"--role-arn", roleARN, "--role-session-name", "bench", "--endpoint-url", moto.URL}}
	imp := exec.Command(filepath.Join(binDir, "awskeep"), "import", "--force", "--key", dev.key.URI)
	imp.Env = append(env, "AWS_SECRET_ACCESS_KEY="+alice.SecretAccessKey)
	if out, err := imp.CombinedOutput(); err != nil {
		b.Fatalf("awskeep import: %v: %s", err, out)
	}
	return c
}

// withProfile is c with its settings in a profile of ~/.aws/config, run as the AWS CLI
// runs it: credential-process --profile bench.
func (c cli) withProfile(b *testing.B) cli {
	b.Helper()
	settings := map[string]string{}
	for i := 1; i+1 < len(c.args); i += 2 {
		settings[c.args[i]] = c.args[i+1]
	}
	config := fmt.Sprintf("[profile bench]\nregion = us-east-1\ncredential_process = awskeep credential-process --profile bench\n"+
		"awskeep_key = %s\nawskeep_access_key_id = %s\nawskeep_role_arn = %s\nrole_session_name = %s\nendpoint_url = %s\n",
		settings["--key"], settings["--access-key-id"], settings["--role-arn"], settings["--role-session-name"], settings["--endpoint-url"])
	path := filepath.Join(b.TempDir(), "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	return cli{env: append(append([]string(nil), c.env...), "AWS_CONFIG_FILE="+path), args: []string{"credential-process", "--profile", "bench"}}
}

func (c cli) run(b *testing.B, extra ...string) { c.runFrom(b, binDir, extra...) }

// runFrom runs the awskeep in dir.
func (c cli) runFrom(b *testing.B, dir string, extra ...string) {
	cmd := exec.Command(filepath.Join(dir, "awskeep"), append(c.args, extra...)...)
	cmd.Env = c.env
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), `{"Version":1`) {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		b.Fatalf("credential-process: %v %s", err, msg)
	}
}

func timed(b *testing.B, f func()) {
	var lat latencies
	for b.Loop() {
		start := time.Now()
		f()
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}

// sessionToken is c asking for GetSessionToken instead of AssumeRole.
func (c cli) sessionToken() cli {
	var args []string
	for i := 0; i < len(c.args); i++ {
		if c.args[i] == "--role-arn" || c.args[i] == "--role-session-name" {
			i++
			continue
		}
		args = append(args, c.args[i])
	}
	return cli{env: c.env, args: args}
}

// backends are the devices a cold credential-process is measured on.
var backends = []struct {
	name string
	open func(*testing.B) device
}{{"pkcs11-softhsm", softhsmDevice}, {"tpm-swtpm", swtpmDevice}, {"yubihsm-sim", yubihsmDevice}}

// BenchmarkCredentialProcess is the wall time of one credential_process invocation, from
// exec until it has exited, its JSON read from a pipe as a client reads it. awskeep runs next
// to reference programs (peers_test.go) in the same run, so scripts/bench.sh can print
// ratios: cache hits against the shell stub, cold runs against the STS floor.
func BenchmarkCredentialProcess(b *testing.B) {
	program := func(name string, cmd func(*testing.B) *exec.Cmd) {
		b.Run(name, func(b *testing.B) {
			c := cmd(b)
			timed(b, func() { runCredentialProcess(b, c) })
		})
	}
	// What a cache hit could cost at best, then awskeep's hit.
	program("static-stub", func(b *testing.B) *exec.Cmd { return exec.Command(stub(b)) })
	program("go-hello", func(*testing.B) *exec.Cmd { return goHello() })
	program("stdlib-json-reader", jsonReader)
	b.Run("pkcs11-warm-cache-hit", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b))
		c.run(b) // fill the cache
		timed(b, func() { c.run(b) })
	})
	b.Run("pkcs11-warm-cache-hit-profile", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b)).withProfile(b)
		c.run(b) // fill the cache
		timed(b, func() { c.run(b) })
	})
	// The same hit answered by the Go front, the awskeep of other systems than linux.
	b.Run("pkcs11-warm-cache-hit-profile-go-front", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b)).withProfile(b)
		c.runFrom(b, goFrontDir) // fill the cache
		timed(b, func() { c.runFrom(b, goFrontDir) })
	})

	// What fresh credentials could cost at best, what they cost a helper that re-initialises
	// PKCS#11 per signature, then awskeep's cold runs (--no-cache: plugin start, device
	// login, HMAC and STS), AssumeRole unless named session-token.
	program("host-start-floor", func(*testing.B) *exec.Cmd { return hostStart() })
	program("sts-floor", func(b *testing.B) *exec.Cmd { return stsFloor(b, "") })
	program("sts-floor-assume-role", func(b *testing.B) *exec.Cmd { return stsFloor(b, roleARN) })
	program("pkcs11-reinit", func(b *testing.B) *exec.Cmd {
		dev := softhsmDevice(b)
		newCLI(b, dev) // imports alice's secret
		return pkcs11Reinit(b, dev, "")
	})
	b.Run("pkcs11-softhsm-cold-session-token", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b)).sessionToken()
		timed(b, func() { c.run(b, "--no-cache") })
	})
	for _, d := range backends {
		b.Run(d.name+"-cold", func(b *testing.B) {
			c := newCLI(b, d.open(b))
			timed(b, func() { c.run(b, "--no-cache") })
		})
	}
	// Fresh credentials through a warm plugin, as long-lived hosts get them (serve, proxy,
	// update --daemon, the Go API): AssumeRole signed by the device, no process started.
	b.Run("pkcs11-softhsm-cold-warm-plugin", func(b *testing.B) {
		key := openKey(b, alice.SecretAccessKey, engine.Settings{AccessKeyID: alice.AccessKeyID, Region: "us-east-1",
			RoleARN: roleARN, RoleSessionName: "bench", EndpointURL: moto.URL}, false)
		p := key.CredentialsProvider()
		ctx := context.Background()
		if _, err := p.Retrieve(ctx); err != nil { // the plugin starts here, once
			b.Fatal(err)
		}
		timed(b, func() {
			if _, err := p.Retrieve(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkConcurrent32 starts 32 invocations at once, as parallel AWS CLI runs do, and
// measures until the last one has printed. "cold" starts each round with an empty cache:
// one invocation calls STS, the other 31 wait for its entry.
func BenchmarkConcurrent32(b *testing.B) {
	const n = 32
	all := func(b *testing.B, run func(i int)) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); run(i) }()
		}
		wg.Wait()
	}
	b.Run("static-stub", func(b *testing.B) {
		s := stub(b)
		timed(b, func() {
			all(b, func(int) {
				if err := exec.Command(s).Run(); err != nil {
					b.Error(err)
				}
			})
		})
	})
	// As the AWS CLI runs it (--profile: the front answers, or waits for the one full
	// program that fetches), and with the settings as flags (every invocation runs the full
	// program).
	for _, form := range []struct {
		suffix  string
		profile bool
	}{{"", true}, {"-flags", false}} {
		open := func(b *testing.B) cli {
			c := newCLI(b, softhsmDevice(b))
			if form.profile {
				c = c.withProfile(b)
			}
			return c
		}
		b.Run("pkcs11-cold-shared-cache"+form.suffix, func(b *testing.B) {
			c := open(b)
			round := 0
			timed(b, func() {
				round++
				cache := fmt.Sprintf("XDG_CACHE_HOME=%s/cache-%d", b.TempDir(), round)
				rc := cli{env: append(append([]string(nil), c.env...), cache), args: c.args}
				all(b, func(int) { rc.run(b) })
			})
		})
		b.Run("pkcs11-warm"+form.suffix, func(b *testing.B) {
			c := open(b)
			c.run(b)
			timed(b, func() { all(b, func(int) { c.run(b) }) })
		})
	}
}
