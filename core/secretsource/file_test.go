//go:build unix

package secretsource

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "hunter2\nsecond line\n", 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string
		wantKind   error
		wantErr    string
	}{
		{name: "first line", path: good, want: "hunter2"},
		{name: "read-only owner", path: write("ro", "pw\n", 0o400), want: "pw"},
		{name: "no final newline", path: write("nonl", "pw", 0o600), want: "pw"},
		{name: "CRLF", path: write("crlf", "pw\r\nx", 0o600), want: "pw"},
		{name: "spaces kept", path: write("spaces", " pw \n", 0o600), want: " pw "},
		{name: "symlink to a good file", path: link, want: "hunter2"},
		{name: "longest line", path: write("max", strings.Repeat("p", maxSecret)+"\nrest", 0o600), want: strings.Repeat("p", maxSecret)},
		{name: "missing", path: filepath.Join(dir, "none"), wantKind: ErrNotFound, wantErr: filepath.Join(dir, "none") + " does not exist"},
		{name: "group readable", path: write("g", "pw\n", 0o640), wantKind: ErrInsecure,
			wantErr: "is open to other users (mode 0640): run chmod 600 " + filepath.Join(dir, "g")},
		{name: "world writable", path: write("w", "pw\n", 0o602), wantKind: ErrInsecure, wantErr: "(mode 0602)"},
		{name: "directory", path: dir, wantKind: ErrInsecure, wantErr: "is not a regular file but a directory"},
		{name: "named pipe does not block", path: fifo, wantKind: ErrInsecure, wantErr: "is not a regular file but a named pipe"},
		{name: "character device", path: "/dev/null", wantKind: ErrInsecure, wantErr: "is not a regular file but a character device"},
		{name: "empty", path: write("empty", "", 0o600), wantKind: ErrEmpty, wantErr: "the first line of " + filepath.Join(dir, "empty") + " is empty"},
		{name: "empty first line", path: write("emptyline", "\npw\n", 0o600), wantKind: ErrEmpty},
		{name: "line too long", path: write("long", strings.Repeat("p", maxSecret+1), 0o600), wantErr: "is longer than 64 KiB: is it the right file?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := mustParse(t, "file:"+tt.path, Options{})
			done := make(chan struct{})
			var got string
			var err error
			go func() {
				defer close(done)
				got, err = src.Secret(t.Context())
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Secret() blocked")
			}
			if tt.wantKind == nil && tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Secret() = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Secret() = %q, want an error", got)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("Secret() error %v is not %v", err, tt.wantKind)
			}
			if !strings.HasPrefix(err.Error(), "file:"+tt.path+": ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Secret() error %q, want file:%s: ...%s", err, tt.path, tt.wantErr)
			}
		})
	}
}

func TestFileOwner(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		// Only root can give a file away; as another user, the open fails instead.
		t.Skip("giving a file to another user needs root; the owner check is covered where tests run as root")
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := mustParse(t, "file:"+p, Options{}).Secret(t.Context())
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), p+" belongs to uid 65534, not to uid 0 that runs awskeep: run chown 0 "+p) {
		t.Fatalf("Secret() = %v", err)
	}
}

func TestFileUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a mode-000 file; covered when tests run as another user")
	}
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("pw\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := mustParse(t, "file:"+p, Options{}).Secret(t.Context())
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "cannot open "+p+": permission denied") {
		t.Fatalf("Secret() = %v", err)
	}
}
