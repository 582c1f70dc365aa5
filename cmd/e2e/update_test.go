package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A credentials file as a careful user keeps it: long-term keys, comments everywhere,
// blank lines, odd spacing, and an old [other] section in the middle that awskeep update
// replaces. Everything but that section must come out byte for byte.
const (
	updateBefore = "# ~/.aws/credentials\n\n[default]\naws_access_key_id=AKIADEFAULTEXAMPLE\n" +
		"aws_secret_access_key   =   defaultsecret\n\n;; legacy account\n[legacy]\n" +
		"  aws_access_key_id = AKIALEGACYEXAMPLE\n  aws_secret_access_key = legacysecret\n\n"
	updateOld = "[other]\n# refreshed by awskeep update\naws_access_key_id = ASIAOLD\nregion = us-east-1\n" +
		"aws_secret_access_key = oldsecret\naws_session_token = oldtoken\nx_security_token_expires = 2020-01-01T00:00:00Z\n"
	updateAfter = "\n# the CI user\n[ci]\naws_access_key_id: AKIACIEXAMPLE\naws_secret_access_key: cisecret\n"
)

// credentialsSections reads a credentials file the simple way (section -> key -> value)
// and counts each section's headers.
func credentialsSections(data []byte) (map[string]map[string]string, map[string]int) {
	sections, count := map[string]map[string]string{}, map[string]int{}
	var cur map[string]string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[' && strings.HasSuffix(l, "]"):
			name := strings.TrimSpace(l[1 : len(l)-1])
			count[name]++
			cur = map[string]string{}
			sections[name] = cur
		case cur != nil:
			i := strings.IndexAny(l, "=:")
			if i > 0 {
				cur[strings.TrimSpace(l[:i])] = strings.TrimSpace(l[i+1:])
			}
		}
	}
	return sections, count
}

// updateKeys are the keys update writes.
var updateKeys = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "x_security_token_expires"}

// completeSection reports whether section holds all four keys, the expiry in RFC 3339.
func completeSection(section map[string]string) bool {
	for _, k := range updateKeys {
		if section[k] == "" {
			return false
		}
	}
	_, err := time.Parse(time.RFC3339, section["x_security_token_expires"])
	return err == nil
}

// updateUser is a user with alice's key imported and two profiles: prod, an awskeep
// profile for the deployer role on moto with session name "upd", and other, a plain
// profile without credential_process whose credentials come only from the credentials file.
func updateUser(t *testing.T) *user {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	u.writeConfig(t,
		awskeepProfile("prod", u.keyURI("prod"), "awskeep_role_arn = "+world.roleARN, "role_session_name = upd",
			"endpoint_url = "+world.server.URL),
		"[profile other]\nregion = us-east-1\n",
	)
	return u
}

var updatedLine = regexp.MustCompile(`^updated \[other\] in (.+); expires (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n$`)

// TestUpdate: awskeep update writes the section the AWS CLI then uses, and leaves every
// other byte of the file alone, with LF and with CRLF line breaks.
func TestUpdate(t *testing.T) {
	u := updateUser(t)
	cli := awsCLIs(t)["v1"]
	for _, eol := range []string{"\n", "\r\n"} {
		t.Run(strconv.Quote(eol), func(t *testing.T) {
			lf := func(s string) string { return strings.ReplaceAll(s, "\n", eol) }
			path := u.credentialsPath()
			if err := os.WriteFile(path, []byte(lf(updateBefore+updateOld+updateAfter)), 0o600); err != nil {
				t.Fatal(err)
			}
			r := u.run("", nil, "update", "--profile", "prod", "--credentials-profile", "other")
			mustSucceed(t, r, "update")
			m := updatedLine.FindStringSubmatch(r.stdout)
			if m == nil || m[1] != path || r.stderr != "" {
				t.Fatalf("update printed %q, stderr %q", r.stdout, r.stderr)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte(lf(updateBefore))) || !bytes.HasSuffix(data, []byte(lf(updateAfter))) {
				t.Fatalf("bytes outside [other] changed:\n%q", data)
			}
			section := string(data[len(lf(updateBefore)) : len(data)-len(lf(updateAfter))])
			if strings.Count(section, eol) != strings.Count(section, "\n") {
				t.Fatalf("the section's line breaks are not all %q: %q", eol, section)
			}
			sections, count := credentialsSections(data)
			other := sections["other"]
			u.tokens = append(u.tokens, other["aws_secret_access_key"], other["aws_session_token"])
			if count["other"] != 1 || !completeSection(other) || other["region"] != "us-east-1" || other["x_security_token_expires"] != m[2] ||
				!strings.HasPrefix(other["aws_access_key_id"], "ASIA") || other["aws_session_token"] == "oldtoken" {
				t.Fatalf("[other] after update: %d headers, %d keys, region %q", count["other"], len(other), other["region"])
			}
			if !strings.HasPrefix(section, lf("[other]\n# refreshed by awskeep update\naws_access_key_id = ")) {
				t.Fatalf("the section's comment or key order moved: %q", section[:min(len(section), 60)])
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, %v", fi.Mode(), err)
			}
			// The AWS CLI takes [other] from the credentials file: the config's profile
			// has no credentials of its own.
			r = u.exec(cli, "", []string{"AWS_ENDPOINT_URL=" + world.server.URL}, "--profile", "other", "sts", "get-caller-identity", "--output", "text")
			mustSucceed(t, r, "aws --profile other sts get-caller-identity")
			if !strings.Contains(r.stdout, assumedRole("deployer", "upd")) {
				t.Fatalf("aws --profile other sts get-caller-identity = %q, want the deployer session", r.stdout)
			}
		})
	}
	u.checkFiles(t, u.credentialsPath())
}

func TestUpdateRefusesAFileOthersCanRead(t *testing.T) {
	u := updateUser(t)
	path := u.credentialsPath()
	if err := os.WriteFile(path, []byte(updateBefore), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := u.run("", nil, "update", "--profile", "prod", "--credentials-profile", "other")
	mustFailClearly(t, r, "update [other]", path+" is readable by others", "chmod 600 "+path)
	if data, _ := os.ReadFile(path); string(data) != updateBefore {
		t.Fatal("a refused file was changed")
	}
	// A new file in a new directory is private.
	fresh := u.home + "/new/.aws/credentials"
	r = u.run("", []string{"AWS_SHARED_CREDENTIALS_FILE=~/new/.aws/credentials"}, "update", "--profile", "prod", "--credentials-profile", "other")
	mustSucceed(t, r, "update into a new file")
	for p, want := range map[string]os.FileMode{fresh: 0o600, u.home + "/new/.aws": 0o700, u.home + "/new": 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, %v; want %04o", p, fi.Mode(), err, want)
		}
	}
	if !strings.Contains(r.stdout, " in "+fresh+";") {
		t.Fatalf("~/ is not expanded: %q", r.stdout)
	}
}

// TestUpdateConcurrentProcesses: 20 awskeep update processes write 20 sections of one file
// at once while a reader parses it in a loop: every read is a whole file, and at the end
// all 20 sections are there.
func TestUpdateConcurrentProcesses(t *testing.T) {
	const n = 20
	u := updateUser(t)
	path := u.credentialsPath()
	userText := updateBefore + updateAfter
	if err := os.WriteFile(path, []byte(userText), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(data []byte) error {
		if !bytes.HasPrefix(data, []byte(userText)) {
			return fmt.Errorf("the user's sections changed")
		}
		sections, count := credentialsSections(data)
		for name, s := range sections {
			if count[name] != 1 {
				return fmt.Errorf("[%s] appears %d times", name, count[name])
			}
			if strings.HasPrefix(name, "c") && name != "ci" && !completeSection(s) {
				return fmt.Errorf("[%s] is incomplete", name)
			}
		}
		return nil
	}
	stop := make(chan struct{})
	var reads atomic.Int64
	readErr := make(chan error, 1)
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if err == nil {
				err = check(data)
			}
			if err != nil {
				readErr <- err
				return
			}
			reads.Add(1)
		}
	}()

	type run struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	runs := make([]*run, n)
	for i := range runs {
		r := &run{cmd: exec.Command(awskeep, "update", "--profile", "prod", "--credentials-profile", fmt.Sprintf("c%02d", i))}
		r.cmd.Env = u.environ()
		r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
		runs[i] = r
	}
	for _, r := range runs {
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range runs {
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("update c%02d: %v\n%s", i, err, r.stderr.String())
		} else if !strings.HasPrefix(r.stdout.String(), fmt.Sprintf("updated [c%02d] in ", i)) {
			t.Errorf("update c%02d printed %q", i, r.stdout.String())
		}
	}
	close(stop)
	reader.Wait()
	select {
	case err := <-readErr:
		t.Fatalf("the reader saw a broken file after %d good reads: %v", reads.Load(), err)
	default:
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(data); err != nil {
		t.Fatal(err)
	}
	sections, _ := credentialsSections(data)
	for i := range n {
		if s, ok := sections[fmt.Sprintf("c%02d", i)]; !ok || !completeSection(s) {
			t.Errorf("[c%02d] is missing: an update was lost", i)
		}
	}
	t.Logf("%d reads during the updates, each a whole file", reads.Load())
}

// updateSTS is STS as moto answers it, through a proxy that shortens the credentials'
// lifetime to lifetime (moto honours DurationSeconds, but awskeep, like STS, asks for 15
// minutes at least; a daemon test cannot wait that long). moto checks the request's
// signature against the Host header, which the proxy passes on unchanged. With failing
// set, AssumeRole is refused (AccessDenied) instead.
type updateSTS struct {
	*httptest.Server
	lifetime time.Duration
	failing  atomic.Bool
	issued   atomic.Int64 // credentials handed out
}

var updateExpiration = regexp.MustCompile(`<Expiration>[^<]*</Expiration>`)

func newUpdateSTS(t *testing.T, lifetime time.Duration) *updateSTS {
	t.Helper()
	target, err := url.Parse(world.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := &updateSTS{lifetime: lifetime}
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps the client's Host header
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK && updateExpiration.Match(body) {
			expires := time.Now().Add(s.lifetime).UTC().Format(time.RFC3339)
			body = updateExpiration.ReplaceAll(body, []byte("<Expiration>"+expires+"</Expiration>"))
			s.issued.Add(1)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Del("Content-Encoding")
		return nil
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.failing.Load() {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
				`<Code>AccessDenied</Code><Message>refused by the test proxy</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// updateDaemon is a running awskeep update --daemon.
type updateDaemon struct {
	cmd            *exec.Cmd
	stdout, stderr updateBuffer
	done           chan error
}

// updateBuffer is a bytes.Buffer that the test may read while the process writes it.
type updateBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *updateBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *updateBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (u *user) startUpdateDaemon(t *testing.T, args ...string) *updateDaemon {
	t.Helper()
	d := &updateDaemon{cmd: exec.Command(awskeep, append([]string{"update", "--daemon"}, args...)...), done: make(chan error, 1)}
	d.cmd.Env = u.environ()
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no terminal to prompt on
	d.cmd.Stdout, d.cmd.Stderr = &d.stdout, &d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// wait waits at most timeout for the daemon to exit and returns its status.
func (d *updateDaemon) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-d.done:
		d.done <- err // for Cleanup
		if exitErr, ok := err.(*exec.ExitError); ok {
			return exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("the daemon did not exit within %v; stderr:\n%s", timeout, d.stderr.String())
		return -1
	}
}

// TestUpdateDaemon: with 4-second credentials the daemon rewrites the section about every
// 2 seconds (half the lifetime), logs one info line per refresh, prints nothing on stdout,
// and stops with status 0 on SIGTERM; when refreshes keep failing it retries until the
// written credentials expire, then exits 1 with one awskeep: line.
func TestUpdateDaemon(t *testing.T) {
	u := updateUser(t)
	refreshed := regexp.MustCompile(`level=INFO msg="credentials refreshed" section=other file=\S+ expires=(\S+) next_refresh=\S+\n`)

	t.Run("refreshes, and stops on SIGTERM", func(t *testing.T) {
		sts := newUpdateSTS(t, 4*time.Second)
		path := u.credentialsPath()
		if err := os.WriteFile(path, []byte(updateBefore+updateAfter), 0o600); err != nil {
			t.Fatal(err)
		}
		d := u.startUpdateDaemon(t, "--profile", "prod", "--credentials-profile", "other", "--endpoint-url", sts.URL)
		// Watch the file: each refresh writes a new expiry; and the daemon's children.
		seen, plugins := map[string]bool{}, map[int]bool{}
		deadline := time.Now().Add(30 * time.Second)
		for len(seen) < 3 && time.Now().Before(deadline) {
			if data, err := os.ReadFile(path); err == nil {
				sections, _ := credentialsSections(data)
				if s := sections["other"]; s != nil {
					if !completeSection(s) || !bytes.HasPrefix(data, []byte(updateBefore+updateAfter)) {
						t.Fatalf("a read saw a broken file:\n%q", data)
					}
					seen[s["x_security_token_expires"]] = true
					u.tokens = append(u.tokens, s["aws_secret_access_key"], s["aws_session_token"])
				}
			}
			for _, pid := range childPids(t, d.cmd.Process.Pid) {
				plugins[pid] = true
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(seen) < 3 {
			t.Fatalf("the daemon wrote %d different credentials in 30 s; stderr:\n%s", len(seen), d.stderr.String())
		}
		// The plugin stays warm: every refresh used the one plugin process.
		if len(plugins) != 1 {
			t.Fatalf("%d refreshes ran %d plugin processes (%v), want 1 kept between refreshes", len(seen), len(plugins), plugins)
		}
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := d.wait(t, 20*time.Second); code != 0 {
			t.Fatalf("SIGTERM: exit %d, want 0; stderr:\n%s", code, d.stderr.String())
		}
		stderr := d.stderr.String()
		if d.stdout.String() != "" {
			t.Fatalf("the daemon printed on stdout: %q", d.stdout.String())
		}
		lines := strings.SplitAfter(strings.TrimSuffix(stderr, "\n"), "\n")
		logged := refreshed.FindAllStringSubmatch(stderr, -1)
		if len(logged) != len(lines) || int64(len(logged)) != sts.issued.Load() || len(logged) < 3 {
			t.Fatalf("%d credentials issued, %d refresh lines logged; want one info line per refresh and nothing else:\n%s",
				sts.issued.Load(), len(logged), stderr)
		}
		for _, m := range logged {
			if _, err := time.Parse(time.RFC3339, m[1]); err != nil {
				t.Fatalf("expiry %q is not RFC 3339", m[1])
			}
		}
		u.checkNoSecrets(stderr, append(append([]string{}, u.secrets...), u.tokens...), "update --daemon")
		t.Logf("%d refreshes:\n%s", len(logged), stderr)
	})

	t.Run("exits 1 when the credentials expire before a refresh succeeds", func(t *testing.T) {
		sts := newUpdateSTS(t, 4*time.Second)
		d := u.startUpdateDaemon(t, "--profile", "prod", "--credentials-profile", "other", "--endpoint-url", sts.URL)
		deadline := time.Now().Add(30 * time.Second)
		for sts.issued.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		sts.failing.Store(true)
		code := d.wait(t, 30*time.Second)
		stderr := d.stderr.String()
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		last := lines[len(lines)-1]
		if code != 1 || d.stdout.String() != "" || !strings.HasPrefix(last, "awskeep: update [other]: the credentials written to ") ||
			!strings.Contains(last, "before a refresh succeeded") || !strings.Contains(last, "AccessDenied") {
			t.Fatalf("exit %d, stdout %q; want 1 and a last line saying the credentials expired:\n%s", code, d.stdout.String(), stderr)
		}
		if n := strings.Count(stderr, `level=WARN msg="refreshing credentials failed; retrying"`); n < 1 {
			t.Fatalf("no retry was logged:\n%s", stderr)
		}
		u.checkNoSecrets(stderr, append(append([]string{}, u.secrets...), u.tokens...), "update --daemon")
		t.Logf("stderr:\n%s", stderr)
	})
}

// childPids lists the processes whose parent is pid (Linux: /proc/PID/task/*/children).
func childPids(t *testing.T, pid int) []int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, field := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(field); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}
