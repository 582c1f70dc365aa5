// Package miniotest runs MinIO, a local S3 that verifies SigV4 signatures, for awskeep's
// tests: it starts the server on a free loopback port with a fresh data directory and
// random root credentials, and creates buckets and objects signed with them.
//
// Tests use it where moto falls short: moto verifies header-signed requests only (with
// authentication on it answers presigned URLs with HTTP 500), while MinIO verifies both
// header-signed and presigned requests (query parameters X-Amz-Signature and
// X-Amz-Expires), as Amazon S3 does ("Authenticating Requests: Using Query Parameters",
// Amazon S3 API Reference).
//
// The root credentials have the form of an AWS access key (an access key ID of upper-case
// letters and digits, a 40-character secret), so awskeep can import the secret into a
// device and sign as the root user.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"go/build"
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

// Version is the pinned MinIO module version (scripts/deps.sh installs it).
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// Region is the region MinIO is configured with and the helpers sign for.
const Region = "us-east-1"

// Server is a running MinIO, or a client of one: the helper methods sign with AccessKeyID
// and SecretAccessKey, so a Server value with the same URL and another secret is a client
// whose requests MinIO refuses.
type Server struct {
	// URL is the S3 endpoint, http://127.0.0.1:PORT (path-style addressing).
	URL string
	// AccessKeyID and SecretAccessKey are the root user's credentials
	// (MINIO_ROOT_USER and MINIO_ROOT_PASSWORD).
	AccessKeyID     string
	SecretAccessKey string
	// Region is the region to sign for, Region.
	Region string
	// Log is the path of the server's output.
	Log string

	proc *process // nil for a Server built by hand
}

// process is the MinIO process; shared by copies of the Server that started it.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when Wait returned
	stop   sync.Once
}

// Binary finds the minio binary: on PATH, in .tools/bin of the enclosing repository
// (where `make deps` puts it), or in $(go env GOPATH)/bin; else it says how to install it.
func Binary() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, ".tools", "bin", "minio"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	candidates = append(candidates, filepath.Join(goPath(), "bin", "minio"))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("minio not found on PATH, in .tools/bin or in $(go env GOPATH)/bin: install it with: make deps (or GOBIN=$PWD/.tools/bin go install github.com/minio/minio@%s)", Version)
}

// goPath is $(go env GOPATH), or Go's default when the go command cannot say.
func goPath() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		// GOPATH may be a list; binaries go to the first entry.
		if first, _, _ := strings.Cut(strings.TrimSpace(string(out)), string(os.PathListSeparator)); first != "" {
			return first
		}
	}
	return build.Default.GOPATH
}

// Start starts MinIO with a temporary data directory and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer starts MinIO on a free 127.0.0.1 port with its data, configuration and log
// in dir, and returns once it answers signed requests. Call Stop when done.
func StartServer(ctx context.Context, dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	user, err := randomString("AKIAMINIO", upperDigits, 20)
	if err != nil {
		return nil, err
	}
	secret, err := randomString("", alphanumerics, 40)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "minio-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "minio.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "server", "--quiet",
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		"--certs-dir", filepath.Join(dir, "minio-certs"),
		data)
	// A clean environment: nothing of the caller's MINIO_* or AWS_* settings, and a HOME
	// in dir so that MinIO writes nothing elsewhere.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"MINIO_ROOT_USER=" + user,
		"MINIO_ROOT_PASSWORD=" + secret,
		"MINIO_SITE_REGION=" + Region,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		// CI mode: no refusal or warning loop for a data directory on the root disk.
		"MINIO_CI_CD=on",
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so Stop ends it and anything it forks; and it dies with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	s := &Server{
		URL:             "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKeyID:     user,
		SecretAccessKey: secret,
		Region:          Region,
		Log:             logPath,
		proc:            p,
	}
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

const (
	upperDigits   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString is prefix followed by random characters of alphabet, n characters in all.
func randomString(prefix, alphabet string, n int) (string, error) {
	b := make([]byte, n-len(prefix))
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		// 256 is not a multiple of the alphabet sizes: a slight bias that tests can afford.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until a signed ListBuckets succeeds: MinIO answers its health check
// before it accepts object requests (503 XMinioServerNotInitialized).
func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			return err
		}
		if last = s.do(req, sigv4.EmptyPayloadHash, "ListBuckets", nil); last == nil {
			return nil
		}
		select {
		case <-s.proc.exited:
			log, _ := os.ReadFile(s.Log)
			return fmt.Errorf("minio exited before it was ready (%v); its log:\n%s", s.proc.cmd.ProcessState, log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(s.Log)
	return fmt.Errorf("minio did not answer on %s within %v (%v); its log:\n%s", s.URL, limit, last, log)
}

// Stop ends the server (its whole process group, by pid) and waits for it. It does
// nothing on a Server built by hand.
func (s *Server) Stop() {
	p := s.proc
	if p == nil {
		return
	}
	p.stop.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
}

// Error is an S3 error answer ("Error Responses", Amazon S3 API Reference).
type Error struct {
	// Op is the request: "PUT /bucket/key".
	Op         string
	StatusCode int
	// Code is the S3 error code: SignatureDoesNotMatch, AccessDenied, NoSuchKey, ...
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("minio %s: HTTP %d %s: %s", e.Op, e.StatusCode, e.Code, e.Message)
}

// CreateBucket creates bucket name.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	_, err := s.object(ctx, http.MethodPut, name, "", nil)
	return err
}

// PutObject stores body under key in bucket, which must exist.
func (s *Server) PutObject(ctx context.Context, bucket, key string, body []byte) error {
	_, err := s.object(ctx, http.MethodPut, bucket, key, body)
	return err
}

// GetObject returns the object's content.
func (s *Server) GetObject(ctx context.Context, bucket, key string) ([]byte, error) {
	return s.object(ctx, http.MethodGet, bucket, key, nil)
}

// object sends one path-style S3 request.
func (s *Server) object(ctx context.Context, method, bucket, key string, body []byte) ([]byte, error) {
	path := "/" + bucket
	if key != "" {
		path += "/" + key
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, err
	}
	u.Path = path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	sum := sha256.Sum256(body)
	var out []byte
	err = s.do(req, hex.EncodeToString(sum[:]), method+" "+path, &out)
	return out, err
}

// do signs req as the root user, like aws-sdk-go-v2 signs for S3 (the path as sent,
// DisableURIPathEscaping, and the payload hash in X-Amz-Content-Sha256), and sends it; a
// non-2xx answer is an *Error. The body of a success goes to out when it is not nil.
func (s *Server) do(req *http.Request, payloadHash, op string, out *[]byte) error {
	signer := sigv4.New(sigv4.SoftwareDeriver(s.SecretAccessKey))
	region := s.Region
	if region == "" {
		region = Region
	}
	if err := signer.SignHTTP(req.Context(), req, payloadHash, sigv4.Credentials{AccessKeyID: s.AccessKeyID}, "s3", region, time.Now(), func(o *sigv4.Options) {
		o.DisableURIPathEscaping = true
		o.AddContentSHA256Header = true
	}); err != nil {
		return fmt.Errorf("minio %s: %w", op, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("minio %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("minio %s: read the answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Op: op, StatusCode: resp.StatusCode}
		var body struct {
			Code    string
			Message string
		}
		if xml.Unmarshal(data, &body) == nil {
			e.Code, e.Message = body.Code, body.Message
		} else {
			e.Message = string(bytes.TrimSpace(data))
		}
		return e
	}
	if out != nil {
		*out = data
	}
	return nil
}

// IsCode reports whether err is an S3 error answer with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
