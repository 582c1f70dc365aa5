package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// served is a running `awskeep serve`: its ECS endpoint and token.
type served struct {
	url, token string
}

var exportLine = regexp.MustCompile(`^export ([A-Z][A-Z0-9_]*)='([^']*)'\n$`)

// startServe starts `awskeep serve --profile bench` in c's environment (a SoftHSM key, moto
// behind it) and returns once it has printed its endpoint and token. It is stopped with
// SIGTERM when b ends.
func startServe(b *testing.B, c cli) served {
	b.Helper()
	vars := startPrinting(b, c.env, []string{"serve", "--profile", "bench"},
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN")
	return served{url: vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token: vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}
}

// startPrinting starts `awskeep args...` in env, a command that prints `export NAME='value'`
// lines for its clients and then serves until stopped (serve, proxy), and returns the
// variables once those named in want are printed. It is stopped with SIGTERM when b ends.
func startPrinting(b *testing.B, env, args []string, want ...string) map[string]string {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "awskeep"), args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start awskeep %s: %v", args[0], err)
	}
	vars := map[string]string{}
	r := bufio.NewReader(out)
	for slices.ContainsFunc(want, func(name string) bool { return vars[name] == "" }) {
		line, err := r.ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			b.Fatalf("awskeep %s: %v before printing %v\n%s", args[0], err, want, stderr.String())
		}
		m := exportLine.FindStringSubmatch(line)
		if m == nil {
			b.Fatalf("awskeep %s printed %q", args[0], line)
		}
		vars[m[1]] = m[2]
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = io.Copy(io.Discard, r)
		if err := cmd.Wait(); err != nil {
			b.Errorf("awskeep %s after SIGTERM: %v\n%s", args[0], err, stderr.String())
		}
	})
	return vars
}

// get is one client request for the served credentials; the answer must be them.
func (s served) get(client *http.Client) error {
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", s.token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"SecretAccessKey":"`)) {
		return fmt.Errorf("not credentials: status %d", resp.StatusCode)
	}
	return nil
}

// reportTail adds p99 to what latencies.report gives (p50, p90).
func (l latencies) reportTail(b *testing.B) {
	l.report(b)
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkServe is a served credential request as a long-running SDK client makes it:
// GET on the ECS endpoint of `awskeep serve` (SoftHSM key, credentials from moto, held in
// memory and refreshed in the background), over a kept-alive connection. "sequential" is
// one client's latency; "concurrent-16" is the throughput of 16 clients at once.
func BenchmarkServe(b *testing.B) {
	s := startServe(b, newCLI(b, softhsmDevice(b)).withProfile(b))
	b.Run("sequential", func(b *testing.B) {
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		var lat latencies
		for b.Loop() {
			start := time.Now()
			if err := s.get(client); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		lat.reportTail(b)
	})
	b.Run("concurrent-16", func(b *testing.B) {
		const clients = 16
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		defer client.CloseIdleConnections()
		var (
			next   atomic.Int64
			wg     sync.WaitGroup
			mu     sync.Mutex
			all    latencies
			failed atomic.Value
		)
		b.ResetTimer()
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat latencies
				for next.Add(1) <= int64(b.N) {
					t := time.Now()
					if err := s.get(client); err != nil {
						failed.Store(err)
						return
					}
					lat = append(lat, time.Since(t))
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if err, ok := failed.Load().(error); ok {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
		all.reportTail(b)
	})
}
