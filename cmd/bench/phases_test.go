package bench

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A cold credential-process, phase by phase, from the timestamps of awskeep's debug log
// (AWSKEEP_LOG_LEVEL=debug, slog text on stderr) and this process's clock: exec, the first
// byte on stdout, exit. Each phase is reported as its median over the iterations, in a metric
// named after the phase; scripts/bench.sh turns them into the phases table.
//
// Log times have millisecond resolution (slog's text handler); the "elapsed" attributes of
// the host's own lines are exact. A phase whose lines are missing from a run is left out of
// the metrics and named in the benchmark's log.

// logMark is a debug log line that ends or starts a phase.
type logMark struct {
	name string
	find string // a substring of the line
}

// logMarks are the lines the phases are cut at, in the order they are logged. The first
// two and the last come from go-plugin (forwarded by core/pluginhost), the others from the
// host (core/devicekey).
var logMarks = []logMark{
	{"exec", ": waiting for RPC address"},
	{"handshake", ": using plugin"},
	{"started", ` msg="plugin started"`},
	{"device", ` msg="device answered"`},
	{"sts", ` msg="STS answered"`},
	{"exited", `: plugin exited"`},
}

// debugLog is what one run's stderr says: the time of each mark's first line and the
// elapsed= attribute on it, when there is one.
type debugLog struct {
	at      map[string]time.Time
	elapsed map[string]time.Duration
}

func parseDebugLog(stderr []byte) debugLog {
	l := debugLog{at: map[string]time.Time{}, elapsed: map[string]time.Duration{}}
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "time=")
		if !ok {
			continue
		}
		stamp, _, _ := strings.Cut(rest, " ")
		t, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			continue
		}
		for _, m := range logMarks {
			if _, seen := l.at[m.name]; seen || !strings.Contains(line, m.find) {
				continue
			}
			l.at[m.name] = t
			if _, v, ok := strings.Cut(line, " elapsed="); ok {
				v, _, _ = strings.Cut(v, " ")
				if d, err := time.ParseDuration(v); err == nil {
					l.elapsed[m.name] = d
				}
			}
		}
	}
	return l
}

// phase is one step of the cold path, measured from one mark to the next.
type phase struct {
	metric string // reported as metric+"-ms"; scripts/bench.sh describes it
	// span returns the phase's duration, false when the run lacks a line it needs.
	span func(r coldRun) (time.Duration, bool)
}

// coldRun is one invocation: its debug log and this process's clock around it.
type coldRun struct {
	log                debugLog
	exec, stdout, exit time.Time
}

// retrieveStart is when core/devicekey's Provider.Retrieve began: the time of its "plugin
// started" line less the elapsed it carries.
func (r coldRun) retrieveStart() (time.Time, bool) {
	t, ok := r.log.at["started"]
	d, ok2 := r.log.elapsed["started"]
	return t.Add(-d), ok && ok2
}

func between(from, to func(coldRun) (time.Time, bool)) func(coldRun) (time.Duration, bool) {
	return func(r coldRun) (time.Duration, bool) {
		a, ok := from(r)
		b, ok2 := to(r)
		return b.Sub(a), ok && ok2
	}
}

func mark(name string) func(coldRun) (time.Time, bool) {
	return func(r coldRun) (time.Time, bool) { t, ok := r.log.at[name]; return t, ok }
}

var (
	execStart = func(r coldRun) (time.Time, bool) { return r.exec, true }
	stdoutAt  = func(r coldRun) (time.Time, bool) { return r.stdout, !r.stdout.IsZero() }
	exitAt    = func(r coldRun) (time.Time, bool) { return r.exit, true }
	// stsOrExited is the later of "STS answered" and "plugin exited": the plugin is closed
	// once the device has answered (core/devicekey), so it often exits during the STS call
	// and the host waits for it only when it has not.
	stsOrExited = func(r coldRun) (time.Time, bool) {
		sts, ok := r.log.at["sts"]
		exited, ok2 := r.log.at["exited"]
		if exited.After(sts) {
			return exited, ok && ok2
		}
		return sts, ok && ok2
	}
)

// phases cut a cold run in order; scripts/bench.sh prints them under these names.
var phases = []phase{
	{"phase1-host-start", between(execStart, coldRun.retrieveStart)},
	{"phase2-open-key-exec", between(coldRun.retrieveStart, mark("exec"))},
	{"phase3-plugin-start", between(mark("exec"), mark("handshake"))},
	{"phase4-grpc-info", between(mark("handshake"), mark("started"))},
	{"phase5-device", elapsedBetween("started", "device")},
	{"phase6-sts", elapsedBetween("device", "sts")},
	{"phase7-plugin-close", between(mark("sts"), stsOrExited)},
	{"phase8-print-exit", between(stsOrExited, exitAt)},
	{"printed", between(execStart, stdoutAt)},
}

// elapsedBetween is the time between two host lines by their exact elapsed= attributes.
func elapsedBetween(from, to string) func(coldRun) (time.Duration, bool) {
	return func(r coldRun) (time.Duration, bool) {
		a, ok := r.log.elapsed[from]
		b, ok2 := r.log.elapsed[to]
		return b - a, ok && ok2
	}
}

// firstWrite is a writer that keeps what it is given and the time of the first write.
type firstWrite struct {
	mu  sync.Mutex
	buf bytes.Buffer
	at  time.Time
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at.IsZero() {
		w.at = time.Now()
	}
	return w.buf.Write(p)
}

// runLogged is c.run at debug level, timed from exec to exit.
func (c cli) runLogged(b *testing.B, extra ...string) coldRun {
	cmd := exec.Command(filepath.Join(binDir, "awskeep"), append(c.args, extra...)...)
	cmd.Env = append(append([]string(nil), c.env...), "AWSKEEP_LOG_LEVEL=debug")
	var stdout firstWrite
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	end := time.Now()
	if err != nil || !strings.HasPrefix(stdout.buf.String(), `{"Version":1`) {
		b.Fatalf("credential-process: %v %s", err, stderr.Bytes())
	}
	return coldRun{log: parseDebugLog(stderr.Bytes()), exec: start, stdout: stdout.at, exit: end}
}

// BenchmarkColdPhases is a cold credential-process (--no-cache, AssumeRole) per backend at
// debug level: its wall time (a little above CredentialProcess/*-cold: it logs) and the
// median of each phase. A future row, cold through a warm plugin, is one more entry here.
func BenchmarkColdPhases(b *testing.B) {
	for _, d := range backends {
		b.Run(d.name, func(b *testing.B) {
			c := newCLI(b, d.open(b))
			var runs []coldRun
			var lat latencies
			for b.Loop() {
				r := c.runLogged(b, "--no-cache")
				runs = append(runs, r)
				lat = append(lat, r.exit.Sub(r.exec))
			}
			lat.report(b)
			reportPhases(b, runs)
		})
	}
}

// reportPhases reports each phase's median over the runs that have its lines, and names
// the phases no run has.
func reportPhases(b *testing.B, runs []coldRun) {
	var missing []string
	for _, p := range phases {
		var ds []time.Duration
		for _, r := range runs {
			if d, ok := p.span(r); ok {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			missing = append(missing, p.metric)
			continue
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, p.metric+"-ms")
	}
	if len(missing) > 0 {
		b.Logf("no debug log lines for %s; the lines looked for: %v", strings.Join(missing, ", "), logMarks)
	}
}

func TestParseDebugLog(t *testing.T) {
	// A cold run's stderr at debug level (pkcs11, 2026-11-30), shortened.
	stderr := `time=2026-11-30T13:06:35.079Z level=DEBUG msg="2026-11-30T13:06:35.079Z [DEBUG] plugin.pkcs11: waiting for RPC address: plugin=/tmp/p/awskeep-plugin-pkcs11" plugin=pkcs11
time=2026-11-30T13:06:35.107Z level=DEBUG msg="2026-11-30T13:06:35.107Z [DEBUG] plugin.pkcs11: using plugin: version=1" plugin=pkcs11
time=2026-11-30T13:06:35.126Z level=DEBUG msg="plugin started" plugin=pkcs11 elapsed=65.36297ms
time=2026-11-30T13:06:35.161Z level=DEBUG msg="device answered" elapsed=100ms
time=2026-11-30T13:06:35.191Z level=DEBUG msg="STS answered" operation="AssumeRole arn:aws:iam::123456789012:role/deployer" elapsed=129.577106ms
time=2026-11-30T13:06:35.195Z level=DEBUG msg="2026-11-30T13:06:35.195Z [INFO]  plugin.pkcs11: plugin process exited: plugin=/tmp/p/awskeep-plugin-pkcs11 id=19197" plugin=pkcs11
time=2026-11-30T13:06:35.196Z level=DEBUG msg="2026-11-30T13:06:35.196Z [DEBUG] plugin.pkcs11: plugin exited" plugin=pkcs11
`
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, "2026-11-30T13:06:35."+s+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	exec := at("000")
	run := coldRun{log: parseDebugLog([]byte(stderr)), exec: exec, stdout: at("197"), exit: at("199")}
	want := map[string]time.Duration{
		"phase1-host-start":    126*time.Millisecond - 65362970*time.Nanosecond,
		"phase2-open-key-exec": 79*time.Millisecond - (126*time.Millisecond - 65362970*time.Nanosecond),
		"phase3-plugin-start":  28 * time.Millisecond,
		"phase4-grpc-info":     19 * time.Millisecond,
		"phase5-device":        100*time.Millisecond - 65362970*time.Nanosecond,
		"phase6-sts":           129577106*time.Nanosecond - 100*time.Millisecond,
		"phase7-plugin-close":  5 * time.Millisecond,
		"phase8-print-exit":    3 * time.Millisecond,
		"printed":              197 * time.Millisecond,
	}
	for _, p := range phases {
		got, ok := p.span(run)
		if !ok || got != want[p.metric] {
			t.Errorf("%s = %v, %v; want %v", p.metric, got, ok, want[p.metric])
		}
	}
	if _, ok := phases[0].span(coldRun{log: parseDebugLog(nil), exec: exec}); ok {
		t.Error("a run without log lines has a host-start phase")
	}
}
