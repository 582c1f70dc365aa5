//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of a child process started by TestConcurrentUpdates.
const (
	childPathEnv    = "AWSKEEP_CREDFILE_TEST_CHILD_PATH"
	childSectionEnv = "AWSKEEP_CREDFILE_TEST_CHILD_SECTION"
)

// TestMain lets the test binary act as one of the concurrent `awskeep update` processes
// of TestConcurrentUpdates when re-executed with childPathEnv set.
func TestMain(m *testing.M) {
	if path := os.Getenv(childPathEnv); path != "" {
		os.Exit(childMain(path, os.Getenv(childSectionEnv)))
	}
	os.Exit(m.Run())
}

// childMain waits for the parent's go (stdin closed), then updates its own section.
func childMain(path, section string) int {
	io.Copy(io.Discard, os.Stdin)
	if err := Update(path, section, testCreds(section), fixedNow); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentUpdates starts 20 goroutines and 20 processes that each write their own
// section of one file at the same moment, while a reader parses the file in a loop. The
// atomic rename means every read sees a whole file (it parses, every section in it is
// complete, the user's sections are intact); the lock means no update is lost (all 40
// sections are there at the end).
func TestConcurrentUpdates(t *testing.T) {
	const goroutines, processes = 20, 20
	path := filepath.Join(t.TempDir(), "credentials")
	user := beforeSection + afterSection + "\n"
	writeFile(t, path, user, 0o600)
	userSections, _ := parseSections([]byte(user))

	check := func(data []byte) error {
		sections, count := parseSections(data)
		if !bytes.HasPrefix(data, []byte(user)) {
			return fmt.Errorf("the user's sections changed")
		}
		for name, keys := range sections {
			if count[name] != 1 {
				return fmt.Errorf("section [%s] appears %d times", name, count[name])
			}
			if _, theirs := userSections[name]; theirs {
				continue
			}
			c := testCreds(name)
			if keys[KeyAccessKeyID] != c.AccessKeyID || keys[KeySecretAccessKey] != c.SecretAccessKey ||
				keys[KeySessionToken] != c.SessionToken || keys[KeyExpires] != "2026-11-30T12:00:00Z" || len(keys) != 4 {
				return fmt.Errorf("section [%s] is incomplete or wrong: %d keys", name, len(keys))
			}
		}
		return nil
	}

	// The reader.
	stop := make(chan struct{})
	var reads int
	var readErr error
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
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
				readErr = fmt.Errorf("read %d: %w", reads, err)
				return
			}
			reads++
		}
	}()

	// The processes wait on their stdin, the goroutines on a channel: all start together.
	var cmds []*exec.Cmd
	var gates []io.WriteCloser
	var outputs []*bytes.Buffer
	for i := range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childPathEnv+"="+path, fmt.Sprintf("%s=p%02d", childSectionEnv, i))
		gate, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, gates, outputs = append(cmds, cmd), append(gates, gate), append(outputs, &out)
	}
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	var writers sync.WaitGroup
	for i := range goroutines {
		writers.Add(1)
		go func() {
			defer writers.Done()
			<-start
			name := fmt.Sprintf("g%02d", i)
			errs <- Update(path, name, testCreds(name), fixedNow)
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the children reach their read of stdin
	close(start)
	for _, g := range gates {
		g.Close()
	}
	writers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process p%02d: %v\n%s", i, err, outputs[i])
		}
	}
	close(stop)
	readers.Wait()
	if readErr != nil {
		t.Fatalf("the reader saw a broken file: %v", readErr)
	}

	data := []byte(readString(t, path))
	if err := check(data); err != nil {
		t.Fatal(err)
	}
	sections, _ := parseSections(data)
	var missing []string
	for i := range goroutines {
		if _, ok := sections[fmt.Sprintf("g%02d", i)]; !ok {
			missing = append(missing, fmt.Sprintf("g%02d", i))
		}
	}
	for i := range processes {
		if _, ok := sections[fmt.Sprintf("p%02d", i)]; !ok {
			missing = append(missing, fmt.Sprintf("p%02d", i))
		}
	}
	if len(missing) > 0 || len(sections) != len(userSections)+goroutines+processes {
		t.Fatalf("lost updates: missing %s; %d sections", strings.Join(missing, " "), len(sections))
	}
	if p := permOf(t, path); p != 0o600 {
		t.Fatalf("mode %04o", p)
	}
	t.Logf("%d reads, every one a whole file", reads)
}
