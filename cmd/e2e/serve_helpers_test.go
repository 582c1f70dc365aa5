package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Helpers for the serve and exec --server tests: a running `awskeep serve`, the client
// variables it prints, raw requests to its endpoints, a clean client environment, and an
// STS shim that shortens the credentials' lifetime to force refreshes.

// Variables serve prints; the IMDS one only with --imds.
const (
	fullURIVar   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	authTokenVar = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	imdsVar      = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
)

// servedSession is the role session name of the serve profiles, so the caller ARN says
// the credentials came from serve.
const servedSession = "served"

// serveUser is a user with alice's key imported and a profile "serve" that assumes the
// deployer role at endpoint (moto, or a shim in front of it).
func serveUser(t *testing.T, endpoint string) *user {
	t.Helper()
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	u.writeServeProfile(t, endpoint)
	return u
}

// writeServeProfile (re)writes the user's config with the profile "serve".
func (u *user) writeServeProfile(t *testing.T, endpoint string) {
	t.Helper()
	u.writeConfig(t, awskeepProfile("serve", u.keyURI("prod"),
		"awskeep_role_arn = "+world.roleARN, "role_session_name = "+servedSession,
		"region = us-east-1", "endpoint_url = "+endpoint))
}

// server is a running `awskeep serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	vars   map[string]string // what it printed
	lines  int               // how many lines that took
	stdout *lockedBuffer     // everything on stdout, the variables included
	stderr *lockedBuffer
	exited chan struct{} // closed when Wait returned
	err    error         // Wait's error, once exited is closed
}

// lockedBuffer is a bytes.Buffer written by a process and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe starts `awskeep [global] serve args...` with the user's environment plus
// extraEnv and waits until it has printed the client variables: the ECS pair, the IMDS
// endpoint too when args hold --imds. global holds flags that go before the command
// (--debug).
func (u *user) startServe(t *testing.T, extraEnv, global []string, args ...string) *server {
	t.Helper()
	want := []string{fullURIVar, authTokenVar}
	if slices.Contains(args, "--imds") {
		want = append(want, imdsVar)
	}
	s := u.startPrinting(t, extraEnv, global, "serve", want, args...)
	if !strings.HasPrefix(s.vars[fullURIVar], "http://127.0.0.1:") {
		t.Fatalf("%s = %q, want a loopback URL", fullURIVar, s.vars[fullURIVar])
	}
	return s
}

// startPrinting starts `awskeep [global] command args...`, a command that prints client
// variables and then runs until stopped (serve, proxy), and waits until it has printed the
// variables named in want.
func (u *user) startPrinting(t *testing.T, extraEnv, global []string, command string, want []string, args ...string) *server {
	t.Helper()
	argv := append(append(append([]string{}, global...), command), args...)
	cmd := exec.Command(awskeep, argv...)
	cmd.Env = u.environ(extraEnv...)
	s := &server{t: t, cmd: cmd, vars: map[string]string{}, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start awskeep %s: %v", command, err)
	}
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Kill()
			<-s.exited
		}
	})
	// The reader never blocks: serve prints three lines at most, and everything it prints
	// is kept in s.stdout. Wait must come after the last read of the pipe.
	lines, eof := make(chan string, 64), make(chan struct{})
	go func() {
		defer close(eof)
		defer close(lines)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			s.stdout.Write([]byte(line))
			if line != "" {
				select {
				case lines <- line:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-eof
		s.err = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.After(time.Minute)
	for !s.hasAll(want) {
		select {
		case line, ok := <-lines:
			if !ok {
				<-s.exited
				t.Fatalf("awskeep %s ended (%v) before printing %v\nstdout: %s\nstderr: %s", command, s.err, want, s.stdout, s.stderr)
			}
			s.parse(t, line)
		case <-deadline:
			t.Fatalf("awskeep %s did not print %v within a minute\nstdout: %s\nstderr: %s", command, want, s.stdout, s.stderr)
		}
	}
	return s
}

func (s *server) hasAll(names []string) bool {
	for _, n := range names {
		if s.vars[n] == "" {
			return false
		}
	}
	return true
}

// exportLine is one line of `serve --format env`.
var exportLine = regexp.MustCompile(`^export ([A-Z][A-Z0-9_]*)='([^']*)'\n$`)

// parse reads one line serve printed: `export NAME='value'` or, with --format json, one
// JSON object.
func (s *server) parse(t *testing.T, line string) {
	t.Helper()
	s.lines++
	if strings.HasPrefix(line, "{") {
		if err := json.Unmarshal([]byte(line), &s.vars); err != nil {
			t.Fatalf("serve --format json printed %q: %v", line, err)
		}
		return
	}
	m := exportLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve printed a line that is not `export NAME='value'`: %q", line)
	}
	s.vars[m[1]] = m[2]
}

// pid is the process id of awskeep serve.
func (s *server) pid() int { return s.cmd.Process.Pid }

// url is the ECS endpoint's URL.
func (s *server) url() string { return s.vars[fullURIVar] }

// token is the ECS authorization token.
func (s *server) token() string { return s.vars[authTokenVar] }

// ecsEnv is the environment of a client that should get its credentials from the ECS
// endpoint only.
func (s *server) ecsEnv(u *user) []string {
	return append(u.clientEnv(), fullURIVar+"="+s.url(), authTokenVar+"="+s.token())
}

// clientEnv is what every client of a served endpoint runs with: moto for its own calls,
// a region, and empty AWS config and credentials files, so that no credential source is
// found before the served one.
func (u *user) clientEnv() []string {
	empty := filepath.Join(u.home, "empty-aws-file")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		u.t.Fatal(err)
	}
	return []string{"AWS_ENDPOINT_URL=" + world.server.URL, "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty}
}

// stop sends sig and checks that serve exits 0 within 10 s, printed nothing after the
// variables, and left no plugin running.
func (s *server) stop(sig syscall.Signal) {
	t := s.t
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal awskeep serve: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("awskeep serve did not exit within 10 s of %v\nstderr: %s", sig, s.stderr)
	}
	if s.err != nil {
		t.Fatalf("awskeep serve after %v: %v, want exit 0\nstderr: %s", sig, s.err, s.stderr)
	}
	if got := strings.Count(s.stdout.String(), "\n"); got != s.lines {
		t.Fatalf("awskeep serve printed %d lines on stdout, want only the %d with the variables:\n%s", got, s.lines, s.stdout)
	}
	noPluginLeft(t)
}

// served is the body of a successful ECS answer.
type served struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string
}

// get sends GET url with the given Authorization headers (none if empty) and returns
// the status and body.
func get(client *http.Client, url string, auth ...string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// fetchServed gets the served credentials with the token; they must be complete and
// unexpired at sent.
func fetchServed(client *http.Client, url, token string) (served, error) {
	sent := time.Now()
	status, body, err := get(client, url, token)
	if err != nil {
		return served{}, err
	}
	if status != http.StatusOK {
		return served{}, fmt.Errorf("status %d: %.200s", status, body)
	}
	return checkServed(body, sent)
}

// checkServed parses an ECS answer and checks it is complete and unexpired at sent.
func checkServed(body []byte, sent time.Time) (served, error) {
	var c served
	if err := json.Unmarshal(body, &c); err != nil {
		return served{}, fmt.Errorf("not JSON: %v", err)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.Token == "" || c.Expiration == "" {
		return served{}, errors.New("incomplete credentials")
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		return served{}, fmt.Errorf("expiration %q: %v", c.Expiration, err)
	}
	if !exp.After(sent) {
		return served{}, fmt.Errorf("expired at %s, request sent at %s", c.Expiration, sent.UTC().Format(time.RFC3339Nano))
	}
	return c, nil
}

// remember adds the temporary secret and session token of c to those that must never
// appear on a stderr.
func (u *user) remember(c served) {
	u.tokens = append(u.tokens, c.SecretAccessKey, c.Token)
}

// vmRSS is the resident set size of process pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// childPlugins are the running PKCS#11 plugin processes whose parent is pid.
func childPlugins(t *testing.T, pid int) []int {
	t.Helper()
	var out []int
	for _, p := range pluginProcesses(t) {
		if parentOf(p) == pid {
			out = append(out, p)
		}
	}
	return out
}

// parentOf is the parent process id of pid, or 0 if it cannot be read.
func parentOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// procFile is /proc/PID/NAME (cmdline, environ) with the NULs as spaces.
func procFile(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
}

// stsShim is a reverse proxy in front of moto that forwards every request unchanged,
// the Host header included (clients sign for the shim's host:port and moto recomputes
// the signature from the Host it receives), and rewrites the Expiration of every STS
// answer to lifetime from now: moto ignores DurationSeconds, and short-lived credentials
// make a server refresh often.
type stsShim struct {
	URL   string
	calls atomic.Int64 // answers whose Expiration was rewritten
	srv   *http.Server
}

var expirationElement = regexp.MustCompile(`<Expiration>[^<]*</Expiration>`)

func startSTSShim(t *testing.T, lifetime time.Duration) *stsShim {
	t.Helper()
	target, err := url.Parse(world.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	shim := &stsShim{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host              // the host the client signed
			r.Out.Header.Del("Accept-Encoding") // plain bodies to rewrite (not a signed header)
		},
		// A refresh in flight when serve stops is cancelled: not worth a log line.
		ErrorLog: log.New(io.Discard, "", 0),
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if expirationElement.Match(body) {
				exp := time.Now().Add(lifetime).UTC().Format(time.RFC3339)
				body = expirationElement.ReplaceAll(body, []byte("<Expiration>"+exp+"</Expiration>"))
				shim.calls.Add(1)
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			return nil
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shim.URL = "http://" + ln.Addr().String()
	shim.srv = &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = shim.srv.Serve(ln) }()
	t.Cleanup(func() { _ = shim.srv.Close() })
	return shim
}
