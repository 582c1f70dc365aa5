package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

func (c cli) run(b *testing.B, extra ...string) {
	cmd := exec.Command(filepath.Join(binDir, "awskeep"), append(c.args, extra...)...)
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

// stub is a credential_process that prints static JSON: the floor any helper is measured
// against.
func stub(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "stub.sh")
	script := "#!/bin/sh\nprintf '%s\\n' '{\"Version\":1,\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"x\",\"SessionToken\":\"y\",\"Expiration\":\"2099-01-01T00:00:00Z\"}'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	return path
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

// BenchmarkCredentialProcess is the wall time of one credential_process invocation.
func BenchmarkCredentialProcess(b *testing.B) {
	b.Run("static-stub", func(b *testing.B) {
		s := stub(b)
		timed(b, func() {
			if err := exec.Command(s).Run(); err != nil {
				b.Fatal(err)
			}
		})
	})
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
	for _, d := range []struct {
		name string
		open func(*testing.B) device
	}{{"pkcs11-softhsm", softhsmDevice}, {"tpm-swtpm", swtpmDevice}, {"yubihsm-sim", yubihsmDevice}} {
		b.Run(d.name+"-cold", func(b *testing.B) {
			c := newCLI(b, d.open(b))
			timed(b, func() { c.run(b, "--no-cache") })
		})
	}
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
	b.Run("pkcs11-cold-shared-cache", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b))
		round := 0
		timed(b, func() {
			round++
			cache := fmt.Sprintf("XDG_CACHE_HOME=%s/cache-%d", b.TempDir(), round)
			rc := cli{env: append(append([]string(nil), c.env...), cache), args: c.args}
			all(b, func(int) { rc.run(b) })
		})
	})
	b.Run("pkcs11-warm", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b))
		c.run(b)
		timed(b, func() { all(b, func(int) { c.run(b) }) })
	})
}
