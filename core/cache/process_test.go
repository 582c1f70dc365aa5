package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/awskeep/awskeep/core/creds"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Environment of a child process started by TestCrossProcessSingleFetch.
const (
	childDirEnv     = "AWSKEEP_CACHE_TEST_CHILD_DIR"
	childCounterEnv = "AWSKEEP_CACHE_TEST_CHILD_COUNTER"
)

// TestMain lets the test binary act as one of the concurrent credential_process
// invocations of TestCrossProcessSingleFetch when re-executed with childDirEnv set.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(childMain(dir, os.Getenv(childCounterEnv)))
	}
	os.Exit(m.Run())
}

// childResult is what a child prints on stdout. It holds the secret so that the parent can
// compare complete credentials; it only ever goes to the parent's pipe.
type childResult struct {
	Hit             bool      `json:"hit"`
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
}

// childMain waits for the parent's go (stdin closed), then does what credential-process
// does: GetOrFetch with a slow fetch that records itself in the counter file with one
// O_APPEND write and returns credentials unique to this process.
func childMain(dir, counter string) int {
	io.Copy(io.Discard, os.Stdin)
	c, err := Open(func(o *Options) { o.Dir = dir })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cr, hit, err := c.GetOrFetch(ctx, testKey(), func(context.Context) (creds.Credentials, error) {
		f, err := os.OpenFile(counter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return creds.Credentials{}, err
		}
		if _, err := fmt.Fprintf(f, "fetch by pid %d\n", os.Getpid()); err != nil {
			return creds.Credentials{}, err
		}
		if err := f.Close(); err != nil {
			return creds.Credentials{}, err
		}
		time.Sleep(200 * time.Millisecond) // an STS round trip; keeps the others waiting
		random := make([]byte, 20)
		rand.Read(random)
		return creds.Credentials{
			AccessKeyID:     fmt.Sprintf("ASIAPID%d", os.Getpid()),
			SecretAccessKey: hex.EncodeToString(random),
			SessionToken:    "token-of-" + hex.EncodeToString(random),
			Expiration:      time.Now().Add(time.Hour).Truncate(time.Second),
		}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(childResult{hit, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken, cr.Expiration})
	return 0
}

// TestCrossProcessSingleFetch runs 16 processes that miss the cache at the same moment:
// the flock must let exactly one of them fetch, and the others must return its credentials.
func TestCrossProcessSingleFetch(t *testing.T) {
	const n = 16
	dir := filepath.Join(t.TempDir(), "awskeep")
	counter := filepath.Join(t.TempDir(), "fetches")
	type child struct {
		cmd            *exec.Cmd
		stdin          io.WriteCloser
		stdout, stderr bytes.Buffer
	}
	children := make([]*child, n)
	for i := range children {
		ch := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
		ch.cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childCounterEnv+"="+counter)
		ch.cmd.Stdout, ch.cmd.Stderr = &ch.stdout, &ch.stderr
		var err error
		if ch.stdin, err = ch.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := ch.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = ch
		t.Cleanup(func() {
			if ch.cmd.ProcessState == nil {
				ch.cmd.Process.Kill()
				ch.cmd.Wait()
			}
		})
	}
	// Release them all at once.
	for _, ch := range children {
		ch.stdin.Close()
	}
	var results []childResult
	for i, ch := range children {
		if err := ch.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\nstderr: %s", i, err, ch.stderr.String())
		}
		var r childResult
		if err := json.Unmarshal(ch.stdout.Bytes(), &r); err != nil {
			t.Fatalf("child %d printed %q: %v", i, ch.stdout.String(), err)
		}
		results = append(results, r)
	}

	log, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(log), "\n"); lines != 1 {
		t.Errorf("%d fetches, want exactly 1:\n%s", lines, log)
	}
	misses := 0
	for i, r := range results {
		if !r.Hit {
			misses++
		}
		r.Hit = results[0].Hit
		if r != results[0] {
			t.Errorf("child %d got credentials %s, child 0 %s", i, r.AccessKeyID, results[0].AccessKeyID)
		}
	}
	if misses != 1 {
		t.Errorf("%d children report a miss, want 1", misses)
	}
	if !strings.Contains(string(log), results[0].AccessKeyID[len("ASIAPID"):]) {
		t.Errorf("the credentials all children hold (%s) are not from the process that fetched:\n%s", results[0].AccessKeyID, log)
	}
}
