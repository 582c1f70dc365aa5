// Package mototest runs moto_server, a local AWS that verifies SigV4 signatures, for
// awskeep's tests and demo: it starts the server on a free loopback port, creates IAM users,
// access keys, roles and S3 objects, and then turns signature checking on.
//
// moto's quirks that matter here (see FACTS.md): authentication is off until
// /moto-api/reset-auth is called, GetSessionToken always returns a fixed key that moto then
// rejects, and requests that sign user-agent are refused.
package mototest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/sigv4"
)

// AccountID is the account moto puts every resource in.
const AccountID = "123456789012"

// Region is the region the helper uses.
const Region = "us-east-1"

// bootstrap credentials: any key works while moto's authentication is off.
var bootstrap = sigv4.Credentials{AccessKeyID: "AKIAMOTOBOOTSTRAP000"}

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string
	// Log is the path of the server's request log.
	Log string

	cmd     *exec.Cmd
	signer  *sigv4.Signer
	secrets string // the file the shim records issued secrets in; "" for plain moto
	stop    sync.Once
}

// User is an IAM user with an access key.
type User struct {
	Name            string
	ARN             string
	AccessKeyID     string
	SecretAccessKey string
}

// Binary finds moto_server on PATH or in the pyenv, or says how to install it.
func Binary() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(os.Getenv("HOME"), ".pyenv")
	}
	candidates, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "moto_server"))
	candidates = append([]string{filepath.Join(root, "shims", "moto_server")}, candidates...)
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("moto_server not found on PATH or in the pyenv: install it with pip install 'moto[server]==5.2.1'")
}

// Start starts moto_server on a free 127.0.0.1 port and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer starts moto_server with its log in dir. Call Stop when done.
func StartServer(ctx context.Context, dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	return startServer(ctx, dir, nil, bin)
}

// startServer runs prog with args followed by moto_server's host and port flags, with env
// added to this process's environment.
func startServer(ctx context.Context, dir string, env []string, prog string, args ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(prog, append(args, "-H", "127.0.0.1", "-p", strconv.Itoa(port))...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// Its own process group, so Stop can end the server and any child it forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		Log:    logPath,
		cmd:    cmd,
		signer: sigv4.New(sigv4.SoftwareDeriver("bootstrap-secret")),
	}
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.Log)
	return fmt.Errorf("moto_server did not answer on %s within %v; its log:\n%s", s.URL, limit, log)
}

// Stop ends the server (its whole process group, by pid) and waits for it.
func (s *Server) Stop() {
	s.stop.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}

// EnableAuth turns SigV4 verification on: from now on every request must be signed with a
// key moto knows (POST "0" to /moto-api/reset-auth).
func (s *Server) EnableAuth(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset-auth", strings.NewReader("0"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto reset-auth: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("moto reset-auth: %s: %s", resp.Status, body)
	}
	return nil
}

// allowAll is an IAM policy that allows everything.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// CreateUser creates an IAM user with an access key. With allowed, the user may do
// anything; without, nothing (for AccessDenied tests).
func (s *Server) CreateUser(ctx context.Context, name string, allowed bool) (User, error) {
	var created struct {
		Arn string `xml:"CreateUserResult>User>Arn"`
	}
	if err := s.iam(ctx, url.Values{"Action": {"CreateUser"}, "UserName": {name}}, &created); err != nil {
		return User{}, err
	}
	if allowed {
		if err := s.iam(ctx, url.Values{"Action": {"PutUserPolicy"}, "UserName": {name},
			"PolicyName": {"allow-all"}, "PolicyDocument": {allowAll}}, nil); err != nil {
			return User{}, err
		}
	}
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := s.iam(ctx, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}}, &key); err != nil {
		return User{}, err
	}
	return User{Name: name, ARN: created.Arn, AccessKeyID: key.ID, SecretAccessKey: key.Secret}, nil
}

// CreateRole creates a role that the principals named by trusted (IAM ARNs) may assume and
// that may do anything, and returns its ARN. moto matches trust principals literally: an
// account's root ARN does not stand for its users.
func (s *Server) CreateRole(ctx context.Context, name string, trusted ...string) (string, error) {
	principals, err := json.Marshal(trusted)
	if err != nil {
		return "", err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":` + string(principals) +
		`},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	var created struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := s.iam(ctx, url.Values{"Action": {"CreateRole"}, "RoleName": {name}, "AssumeRolePolicyDocument": {trust}}, &created); err != nil {
		return "", err
	}
	if err := s.iam(ctx, url.Values{"Action": {"PutRolePolicy"}, "RoleName": {name},
		"PolicyName": {"allow-all"}, "PolicyDocument": {allowAll}}, nil); err != nil {
		return "", err
	}
	return created.Arn, nil
}

// PutObject creates the bucket if needed and stores body under key.
func (s *Server) PutObject(ctx context.Context, bucket, key, body string) error {
	if err := s.s3(ctx, http.MethodPut, "/"+bucket, ""); err != nil {
		return err
	}
	return s.s3(ctx, http.MethodPut, "/"+bucket+"/"+key, body)
}

func (s *Server) iam(ctx context.Context, form url.Values, out any) error {
	form.Set("Version", "2010-05-08")
	body := form.Encode()
	req, err := newFormRequest(ctx, s.URL, body)
	if err != nil {
		return err
	}
	return s.do(req, "iam", hash(body), form.Get("Action"), out)
}

// newFormRequest is a POST of a form-encoded body to endpoint's root.
func newFormRequest(ctx context.Context, endpoint, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req, nil
}

func (s *Server) s3(ctx context.Context, method, path, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	return s.do(req, "s3", hash(body), method+" "+path, nil, func(o *sigv4.Options) {
		o.DisableURIPathEscaping = true
		o.AddContentSHA256Header = true
	})
}

func (s *Server) do(req *http.Request, service, payloadHash, what string, out any, optFns ...func(*sigv4.Options)) error {
	if err := s.signer.SignHTTP(req.Context(), req, payloadHash, bootstrap, service, Region, time.Now(), optFns...); err != nil {
		return err
	}
	return s.send(req, what, out)
}

// send sends a signed request and decodes its XML answer into out (when not nil).
func (s *Server) send(req *http.Request, what string, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto %s: %w", what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto %s: %s: %s", what, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := xml.Unmarshal(data, out); err != nil {
			return fmt.Errorf("moto %s: decode: %w", what, err)
		}
	}
	return nil
}

func hash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}
