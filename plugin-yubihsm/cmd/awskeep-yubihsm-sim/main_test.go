package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("from file\r\nsecond line\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == passwordEnv {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name, file, env, want string
		ok                    bool
	}{
		{"file wins", file, "from env", "from file", true},
		{"env", "", "from env", "from env", true},
		{"default", "", "", "password", true},
		{"missing file", filepath.Join(dir, "none"), "", "", false},
		{"empty file", empty, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPassword(tc.file, env(tc.env))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("readPassword = %q, %v", got, err)
			}
		})
	}
}

func TestRejectsPasswordInArgv(t *testing.T) {
	err := run(context.Background(), []string{"hunter2"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "-password-file") {
		t.Fatalf("err = %v, want a refusal that does not echo the argument", err)
	}
}

// TestBinary runs the real command: first stdout line is the address, a client
// authenticates with the password from the environment, SIGTERM stops it cleanly.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "awskeep-yubihsm-sim")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	cmd := exec.Command(bin, "-port", "0")
	cmd.Env = append(os.Environ(), passwordEnv+"=binary test password")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(line)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("first line %q is not 127.0.0.1:PORT", line)
	}
	conn, err := yubihsm.NewConnector("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wrong, _ := yubihsm.NewClient(conn, 1, "password")
	if err := wrong.Open(ctx); !errors.Is(err, yubihsm.ErrAuthentication) {
		t.Fatalf("default password accepted: %v", err)
	}
	right, _ := yubihsm.NewClient(conn, 1, "binary test password")
	if got, err := right.Echo(ctx, []byte("hi")); err != nil || string(got) != "hi" {
		t.Fatalf("Echo = %q, %v", got, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestParseCommandList(t *testing.T) {
	got, err := parseCommandList("53, 0x4e")
	if err != nil || len(got) != 2 || got[0] != yubihsm.CmdSignHMAC || got[1] != yubihsm.CmdGetObjectInfo {
		t.Fatalf("parseCommandList = %v, %v", got, err)
	}
	if got, err := parseCommandList(""); err != nil || got != nil {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"53,", "sign", "100", "-1"} {
		if _, err := parseCommandList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseCommandList(f *testing.F) {
	f.Add("53,4e")
	f.Add("0x53")
	f.Fuzz(func(t *testing.T, s string) {
		cmds, err := parseCommandList(s)
		if err == nil && s != "" && len(cmds) != strings.Count(s, ",")+1 {
			t.Fatalf("%q: %d commands", s, len(cmds))
		}
	})
}
