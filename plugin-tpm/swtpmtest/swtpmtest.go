// Package swtpmtest runs swtpm, a software TPM 2.0, for tests: each Start gets its own
// process, state directory and ports on 127.0.0.1, and the test's cleanup stops it by pid.
//
// The TPM backend's tests use it, and so can end-to-end tests of the awskeep command:
//
//	sw := swtpmtest.Start(t)
//	uri := "tpm:handle=0x81010002?device=" + sw.Device
//	...
//	sw.Restart(t) // a reboot: persistent keys survive
//
// swtpm serves one client at a time; a second client waits until the first disconnects.
package swtpmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/mssim"
)

// Install is the command that provides swtpm on Debian and Ubuntu.
const Install = "apt-get install swtpm swtpm-tools"

// startTimeout bounds how long swtpm may take to accept connections.
const startTimeout = 15 * time.Second

// Options modify Start.
type Options struct {
	// NoStartup leaves the TPM powered on but not started: the first command is answered
	// with TPM_RC_INITIALIZE until someone sends TPM2_Startup, as after a platform reset
	// that firmware did not follow with a startup. Default: started with TPM2_Startup(CLEAR).
	NoStartup bool
}

// SWTPM is a running swtpm process.
type SWTPM struct {
	// Port is the TPM command port on 127.0.0.1; the control port is Port+1.
	Port int
	// Device is the key URI device attribute that reaches this TPM: tcp://127.0.0.1:Port.
	Device string
	// StateDir holds the TPM's persistent state (its NVRAM); it survives Restart.
	StateDir string

	opts   Options
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *bytes.Buffer
}

// Start starts swtpm with a fresh state directory and manufactured TPM (swtpm socket
// --tpm2 --flags not-need-init,startup-clear, unless Options say otherwise), waits until
// it answers commands, and registers its stop with t.Cleanup. A missing swtpm fails the test with the command that
// installs it.
func Start(t testing.TB, optFns ...func(*Options)) *SWTPM {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Fatalf("swtpm not found (%v): %s", err, Install)
	}
	s := &SWTPM{StateDir: t.TempDir()}
	for _, fn := range optFns {
		fn(&s.opts)
	}
	t.Cleanup(s.Stop)
	var lastErr error
	// A free port can be taken by someone else between the probe and swtpm's bind: try again
	// with other ports.
	for range 5 {
		port, err := freePortPair()
		if err != nil {
			t.Fatalf("swtpmtest: find free ports: %v", err)
		}
		s.Port = port
		s.Device = "tcp://127.0.0.1:" + strconv.Itoa(port)
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("swtpmtest: %v", lastErr)
	return nil
}

// TCTI is the tpm2-tools TCTI configuration for this TPM (TPM2TOOLS_TCTI, or -T).
func (s *SWTPM) TCTI() string {
	return fmt.Sprintf("swtpm:host=127.0.0.1,port=%d", s.Port)
}

// Open connects to the TPM for direct commands (go-tpm's tpm2 package). Close the
// connection before anyone else needs the TPM: swtpm serves one client at a time.
func (s *SWTPM) Open(ctx context.Context) (transport.TPMCloser, error) {
	return mssim.Dial(ctx, "127.0.0.1:"+strconv.Itoa(s.Port))
}

// Restart reboots the TPM: an orderly TPM2_Shutdown(CLEAR), then the process is stopped
// and started again on the same ports and state, as a computer's TPM across a reboot.
// Persistent objects survive; transient ones, sessions and PCR values do not.
func (s *SWTPM) Restart(t testing.TB) {
	t.Helper()
	if err := s.shutdownTPM(); err != nil {
		t.Fatalf("swtpmtest: TPM2_Shutdown before restart: %v", err)
	}
	s.Stop()
	var err error
	// The old process's sockets may linger a moment after it exits.
	for range 50 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("swtpmtest: restart: %v", err)
}

// Stop stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it. It is safe
// to call more than once; Start registers it with t.Cleanup.
func (s *SWTPM) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

func (s *SWTPM) start() error {
	flags := "not-need-init,startup-clear"
	if s.opts.NoStartup {
		flags = "not-need-init"
	}
	cmd := exec.Command("swtpm", "socket", "--tpm2",
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", s.Port),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", s.Port+1),
		"--flags", flags,
		"--tpmstate", "dir="+s.StateDir,
		"--log", "file="+filepath.Join(s.StateDir, "swtpm.log")+",level=1",
	)
	stderr := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start swtpm: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.stderr = cmd, exited, stderr
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			return fmt.Errorf("swtpm exited at start (%v): %s", cmd.ProcessState, bytes.TrimSpace(stderr.Bytes()))
		default:
		}
		if err := s.ping(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("swtpm did not answer on port %d within %v: %v", s.Port, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getRandom8 is TPM2_GetRandom(8) (TPM 2.0 Part 3 section 16.1), a harmless command.
var getRandom8 = []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}

// shutdownClear is TPM2_Shutdown(TPM_SU_CLEAR) (Part 3 section 9.4).
var shutdownClear = []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0}

// ping checks that the TPM answers a command, not just that the port is open.
func (s *SWTPM) ping() error {
	_, err := s.command(getRandom8, 2*time.Second)
	return err
}

func (s *SWTPM) shutdownTPM() error {
	rsp, err := s.command(shutdownClear, 10*time.Second)
	if err != nil {
		return err
	}
	// TPM_RC_INITIALIZE (0x100): a TPM that was never started needs no shutdown.
	if rc := uint32(rsp[6])<<24 | uint32(rsp[7])<<16 | uint32(rsp[8])<<8 | uint32(rsp[9]); rc != 0 && rc != 0x100 {
		return fmt.Errorf("response code 0x%x", rc)
	}
	return nil
}

func (s *SWTPM) command(cmd []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := s.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rsp, err := c.Send(cmd)
	if err != nil {
		return nil, err
	}
	if len(rsp) < 10 {
		return nil, errors.New("short response")
	}
	return rsp, nil
}

// freePortPair returns a port P such that P and P+1 were both free on 127.0.0.1.
func freePortPair() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, errors.New("no two consecutive free ports")
}
