//go:build linux

package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcess runs in a child process (it changes the process for good).
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
			t.Fatal(err)
		}
		if err := Process(); err != nil {
			t.Fatal(err)
		}
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 {
			t.Fatalf("core limit %+v, %v", lim, err)
		}
		if d, err := Dumpable(); err != nil || d {
			t.Fatalf("dumpable %v, %v", d, err)
		}
		// A child gets the original limit back and is dumpable again after exec.
		// (It waits for its stdin to close, which happens after RestoreChild.)
		cmd := exec.Command("sh", "-c", "read _; ulimit -c")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := RestoreChild(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil || strings.TrimSpace(out.String()) != "unlimited" {
			t.Fatalf("child's core limit: %q, %v; want unlimited", out.String(), err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestProcess") {
		t.Fatalf("child did not pass:\n%s", out)
	}
}
