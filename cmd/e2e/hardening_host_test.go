package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportFromEndlessInput: `awskeep import < /dev/zero` reads a few KiB, not until
// memory runs out, and fails with one line.
func TestImportFromEndlessInput(t *testing.T) {
	u := newUser(t)
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	cmd := exec.Command(awskeep, "import", "--key", u.keyURI("prod"))
	cmd.Env = u.environ()
	cmd.Stdin = zero
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	code := -1
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	}
	mustFailClearly(t, result{stdout: stdout.String(), stderr: stderr.String(), code: code}, "more than 4096 bytes")
	// Generous: an unbounded read takes many seconds and gigabytes before it dies.
	if elapsed > 5*time.Second {
		t.Fatalf("import < /dev/zero took %v", elapsed)
	}
	t.Logf("import < /dev/zero failed in %v", elapsed)
}

// TestCrashLeavesNoCoreWithTheSecret crashes the host while it holds the AWS secret (import
// waiting for a plugin whose module path is a FIFO) under GOTRACEBACK=crash and
// `ulimit -c unlimited`, the set-up that used to write a core holding the secret and the PIN:
// no core, and no file with the secret, may be left.
func TestCrashLeavesNoCoreWithTheSecret(t *testing.T) {
	u := newUser(t)
	dir := t.TempDir() // the host's working directory, where the kernel would write "core"
	fifo := filepath.Join(t.TempDir(), "module.so")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	key := "pkcs11:token=aws;object=prod?module-path=" + fifo + "&pin-source=file:" + u.pinFile
	cmd := exec.Command("sh", "-c", `ulimit -c unlimited && exec "$0" import --key "$1" --timeout 60s`, awskeep, key)
	cmd.Dir = dir
	cmd.Env = u.environ("GOTRACEBACK=crash")
	cmd.Stdin = strings.NewReader(world.alice.SecretAccessKey + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The host has read the secret once its plugin is running (and stuck on the FIFO).
	deadline := time.Now().Add(20 * time.Second)
	for len(pluginProcesses(t)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(pluginProcesses(t)) == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the plugin never started; stderr: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil { // GOTRACEBACK=crash: dump and abort
		t.Fatal(err)
	}
	err := cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGABRT {
		t.Fatalf("the host did not crash as GOTRACEBACK=crash makes it: %v", err)
	}
	if ws.CoreDump() {
		t.Error("the kernel reports a core dump")
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
	if len(cores) > 0 {
		t.Errorf("core files left: %v", cores)
	}
	notInFiles(t, dir, world.alice.SecretAccessKey, "", "the AWS secret")
	notInFiles(t, dir, userPIN, "", "the PIN")
	noPluginLeft(t)
}
