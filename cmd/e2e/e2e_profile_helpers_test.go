package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/sigv4"
)

// Helpers for the profile, terminal and export/exec tests: profiles in the user's AWS
// config, roles created after moto's authentication is on, runs without a controlling
// terminal, runs under a pseudo-terminal, and checks that no file holds a secret.

// profileSession is the role session name the awskeep profiles in these tests ask for, so
// the caller ARN says which settings were used.
const profileSession = "hsm"

// awskeepProfile is the text of [profile name]: credential_process runs awskeep for the
// same profile, with alice's key (keyURI) and access key ID, and extra lines appended
// (awskeep_role_arn, region, endpoints...).
func awskeepProfile(name, keyURI string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[profile %s]\n", name)
	fmt.Fprintf(&b, "credential_process = %s credential-process --profile %s\n", awskeep, name)
	fmt.Fprintf(&b, "awskeep_key = %s\n", keyURI)
	fmt.Fprintf(&b, "awskeep_access_key_id = %s\n", world.alice.AccessKeyID)
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// motoServices is a [services NAME] section that sends STS to moto; a profile uses it
// with `services = NAME`.
func motoServices(name, endpoint string) string {
	return fmt.Sprintf("[services %s]\nsts =\n  endpoint_url = %s\n", name, endpoint)
}

// configPath is the user's AWS config file ($AWS_CONFIG_FILE in u.environ).
func (u *user) configPath() string { return filepath.Join(u.home, "aws-config") }

// credentialsPath is the user's shared credentials file ($AWS_SHARED_CREDENTIALS_FILE).
func (u *user) credentialsPath() string { return filepath.Join(u.home, "aws-credentials") }

// writeConfig replaces the user's AWS config with the given sections.
func (u *user) writeConfig(t *testing.T, sections ...string) {
	t.Helper()
	if err := os.WriteFile(u.configPath(), []byte(strings.Join(sections, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// lineOf returns the 1-based number of the first line of the user's config that starts
// with prefix.
func (u *user) lineOf(t *testing.T, prefix string) int {
	t.Helper()
	data, err := os.ReadFile(u.configPath())
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("no line starts with %q in %s", prefix, u.configPath())
	return 0
}

// assumedRole is the caller ARN moto reports for a session of role.
func assumedRole(role, session string) string {
	return "arn:aws:sts::" + mototest.AccountID + ":assumed-role/" + role + "/" + session
}

// pyenvPython is the python of the pyenv that holds AWS CLI v1, with boto3.
func pyenvPython(t *testing.T) string {
	t.Helper()
	python := filepath.Join(filepath.Dir(awsCLIs(t)["v1"]), "python")
	if out, err := exec.Command(python, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import boto3 (pip install boto3): %v\n%s", python, err, out)
	}
	return python
}

// closedEndpoint is an http URL on a loopback port where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// roles are the roles tests created, by name, so each is created once per package.
var roles struct {
	sync.Mutex
	arns map[string]string
}

// role returns the ARN of role name, created on first use with a trust policy for trusted
// and an allow-all policy. moto's authentication is already on when tests run, so unlike
// mototest.Server.CreateRole (which signs with its bootstrap key, valid only before
// EnableAuth) the IAM calls are signed with alice's key, which may do anything.
//
// moto checks trust policies by comparing the caller's ARN literally with the principals:
// a role session's caller is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, and the role's
// own ARN does not stand for its sessions as it does on AWS.
func role(t *testing.T, name string, trusted ...string) string {
	t.Helper()
	roles.Lock()
	defer roles.Unlock()
	if arn, ok := roles.arns[name]; ok {
		return arn
	}
	principals, err := json.Marshal(trusted)
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":` + string(principals) +
		`},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	var created struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := iamAsAlice(url.Values{"Action": {"CreateRole"}, "RoleName": {name}, "AssumeRolePolicyDocument": {trust}}, &created); err != nil {
		t.Fatal(err)
	}
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if err := iamAsAlice(url.Values{"Action": {"PutRolePolicy"}, "RoleName": {name},
		"PolicyName": {"allow-all"}, "PolicyDocument": {allowAll}}, nil); err != nil {
		t.Fatal(err)
	}
	if roles.arns == nil {
		roles.arns = map[string]string{}
	}
	roles.arns[name] = created.Arn
	return created.Arn
}

// iamAsAlice sends one IAM query API call to moto signed with alice's long-term key.
func iamAsAlice(form url.Values, out any) error {
	form.Set("Version", "2010-05-08")
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, world.server.URL+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	signer := sigv4.New(sigv4.SoftwareDeriver(world.alice.SecretAccessKey))
	if err := signer.SignHTTP(context.Background(), req, hex.EncodeToString(sum[:]),
		sigv4.Credentials{AccessKeyID: world.alice.AccessKeyID}, "iam", mototest.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto %s: %w", form.Get("Action"), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto %s: %s: %s", form.Get("Action"), resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return xml.Unmarshal(data, out)
	}
	return nil
}

// detached runs bin as u.exec does, but in a new session (no controlling terminal, so
// /dev/tty cannot be opened) with stdin on /dev/null, and says how long it took. Every run
// that may need a PIN or an MFA code that no setting gives goes through here, so that it
// fails instead of asking on the terminal of whoever runs the tests.
func (u *user) detached(bin string, extraEnv []string, args ...string) (result, time.Duration) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = u.environ(extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		u.t.Fatalf("run %s: %v", bin, err)
	}
	what := filepath.Base(bin) + " " + strings.Join(args, " ")
	u.checkNoSecrets(r.stdout+r.stderr, u.secrets, what)
	u.checkNoSecrets(r.stderr, u.tokens, what)
	return r, elapsed
}

// credentials parses credential_process JSON printed by awskeep and remembers the
// temporary secret and session token, which must then appear on no stderr.
func (u *user) credentials(stdout string) creds.Credentials {
	u.t.Helper()
	c, err := parseCredentials(stdout)
	if err != nil {
		u.t.Fatalf("not credential_process JSON: %v", err)
	}
	u.tokens = append(u.tokens, c.SecretAccessKey, c.SessionToken)
	return c
}

// checkLog checks the debug log of a run that fetched c: it must be a log (debug lines)
// and hold no PIN, no long-term secret and neither half of c's secret part.
func (u *user) checkLog(t *testing.T, r result, c creds.Credentials, what string) {
	t.Helper()
	if !strings.Contains(r.stderr, "level=DEBUG") {
		t.Fatalf("%s logged no debug lines:\n%s", what, r.stderr)
	}
	u.checkNoSecrets(r.stderr, append(append([]string{}, u.secrets...), c.SecretAccessKey, c.SessionToken), what+" (debug log)")
}

// checkFiles fails the test for any file under the user's home that holds the PIN (but
// the pin-source file), the long-term AWS secret, or one of the temporary secrets awskeep
// handed out (but the credential cache's entries and the files in allowed, written on
// purpose).
func (u *user) checkFiles(t *testing.T, allowed ...string) {
	t.Helper()
	cache := u.cacheDir() + string(filepath.Separator)
	err := filepath.WalkDir(u.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if path != u.pinFile && bytes.Contains(data, []byte(userPIN)) {
			t.Errorf("%s holds the PIN", path)
		}
		if bytes.Contains(data, []byte(world.alice.SecretAccessKey)) || bytes.Contains(data, []byte(world.mallory.SecretAccessKey)) {
			t.Errorf("%s holds a long-term AWS secret", path)
		}
		if strings.HasPrefix(path, cache) || slices.Contains(allowed, path) {
			return nil
		}
		for _, s := range u.tokens {
			if s != "" && bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds a temporary secret or session token from awskeep", path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// terminal is a command running with a pseudo-terminal as its controlling terminal and
// its stdin, stdout and stderr: what a user at a shell sees.
type terminal struct {
	t    *testing.T
	ptmx *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer  // everything the terminal showed so far
	read chan struct{} // closed when the pty reads EOF or EIO (the command and its children are gone)
}

// startTerminal starts bin in a new session whose controlling terminal is a new pty
// (creack/pty: Setsid and Setctty), with the user's environment.
func (u *user) startTerminal(t *testing.T, bin string, extraEnv []string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = u.environ(extraEnv...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 250})
	if err != nil {
		t.Fatalf("start %s on a pty: %v", bin, err)
	}
	term := &terminal{t: t, ptmx: ptmx, cmd: cmd, read: make(chan struct{})}
	go func() {
		defer close(term.read)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
	})
	return term
}

// output is what the terminal showed so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the terminal shows text, for at most timeout.
func (term *terminal) waitFor(text string, timeout time.Duration) {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(term.output(), text) {
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal did not show %q within %v; it shows:\n%s", text, timeout, term.output())
		}
		select {
		case <-term.read:
			if !strings.Contains(term.output(), text) {
				term.t.Fatalf("the command ended before the terminal showed %q; it shows:\n%s", text, term.output())
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// typeLine types line and Enter.
func (term *terminal) typeLine(line string) {
	term.t.Helper()
	if _, err := term.ptmx.Write([]byte(line + "\n")); err != nil {
		term.t.Fatalf("type on the pty: %v", err)
	}
}

// wait waits at most timeout for the command to exit and returns its status and
// everything the terminal showed.
func (term *terminal) wait(timeout time.Duration) (int, string) {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = term.cmd.Process.Kill()
		term.t.Fatalf("the command did not end within %v; the terminal shows:\n%s", timeout, term.output())
	}
	// The pty reads EIO once the last process holding the terminal is gone.
	select {
	case <-term.read:
	case <-time.After(5 * time.Second):
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		term.t.Fatal(err)
	}
	return code, term.output()
}
