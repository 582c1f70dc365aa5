//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// testNow is the clock of these tests; credentials expire an hour later.
var testNow = time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)

func fixedNow(o *Options) { o.Now = func() time.Time { return testNow } }

func testCreds(tag string) creds.Credentials {
	return creds.Credentials{
		AccessKeyID: "ASIA" + strings.ToUpper(tag), SecretAccessKey: "secret-" + tag,
		SessionToken: "token-" + tag, Expiration: testNow.Add(time.Hour),
	}
}

// sectionText is the section Update writes for testCreds(tag), with line break eol.
func sectionText(name, tag, eol string) string {
	c := testCreds(tag)
	return strings.ReplaceAll("["+name+"]\naws_access_key_id = "+c.AccessKeyID+"\naws_secret_access_key = "+c.SecretAccessKey+
		"\naws_session_token = "+c.SessionToken+"\nx_security_token_expires = 2026-11-30T12:00:00Z\n", "\n", eol)
}

func writeFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // WriteFile's perm passes the umask
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func permOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestUpdateKeepsOtherBytes: with three other profiles and comments around the section,
// the file after Update is byte for byte the file before, but for the section.
func TestUpdateKeepsOtherBytes(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		lf := func(s string) string { return strings.ReplaceAll(s, "\n", eol) }
		for _, tc := range []struct {
			name, in, want string
		}{
			{"replace in the middle", lf(beforeSection + oldSection + afterSection), lf(beforeSection) + sectionText("dev", "new", eol) + lf(afterSection)},
			{"replace the first", lf(oldSection + beforeSection + afterSection), sectionText("dev", "new", eol) + lf(beforeSection+afterSection)},
			{"replace the last, no final newline", lf(beforeSection + afterSection + "\n" + strings.TrimSuffix(oldSection, "\n")),
				lf(beforeSection+afterSection+"\n") + strings.TrimSuffix(sectionText("dev", "new", eol), eol)},
			{"append", lf(beforeSection + afterSection + "\n"), lf(beforeSection+afterSection+"\n\n") + sectionText("dev", "new", eol)},
			{"append after no final newline", lf(beforeSection + afterSection), lf(beforeSection+afterSection+"\n\n") + sectionText("dev", "new", eol)},
		} {
			t.Run(strings.ReplaceAll(tc.name+" "+eol, "\n", "LF"), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "credentials")
				writeFile(t, path, tc.in, 0o600)
				if err := Update(path, "dev", testCreds("new"), fixedNow); err != nil {
					t.Fatal(err)
				}
				if got := readString(t, path); got != tc.want {
					t.Fatalf("file after Update:\n got %q\nwant %q", got, tc.want)
				}
				if p := permOf(t, path); p != 0o600 {
					t.Fatalf("mode %04o, want 0600", p)
				}
			})
		}
	}
}

func TestUpdateTwoSectionsInTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	for _, step := range []struct{ name, tag string }{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
		if err := Update(path, step.name, testCreds(step.tag), fixedNow); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := readString(t, path), sectionText("a", "3", "\n")+"\n"+sectionText("b", "2", "\n"); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestUpdateNewFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "home", ".aws", "credentials")
	if err := Update(path, "dev", testCreds("new"), fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != sectionText("dev", "new", "\n") {
		t.Fatalf("new file: %q", got)
	}
	if p := permOf(t, path); p != 0o600 {
		t.Fatalf("new file mode %04o, want 0600", p)
	}
	for _, d := range []string{filepath.Join(dir, "home"), filepath.Join(dir, "home", ".aws")} {
		if p := permOf(t, d); p != 0o700 {
			t.Fatalf("new directory %s mode %04o, want 0700", d, p)
		}
	}
	// Only the file and its lock are left in the directory.
	ents, _ := os.ReadDir(filepath.Dir(path))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "credentials credentials.awskeep.lock" {
		t.Fatalf("directory holds %v", names)
	}
}

func TestUpdateModes(t *testing.T) {
	for _, tc := range []struct {
		perm fs.FileMode
		says string // "" for accepted
	}{
		{0o600, ""},
		{0o400, ""},
		{0o644, "is readable by others (mode 0644): chmod 600 "},
		{0o640, "is readable by others (mode 0640): chmod 600 "},
		{0o604, "is readable by others"},
		{0o620, "is writable by others (mode 0620): chmod 600 "},
		{0o602, "is writable by others"},
		{0o666, "is readable by others"},
	} {
		t.Run(tc.perm.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credentials")
			writeFile(t, path, oldSection, tc.perm)
			err := Update(path, "dev", testCreds("new"), fixedNow)
			if tc.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p := permOf(t, path); p != tc.perm {
					t.Fatalf("mode changed from %04o to %04o", tc.perm, p)
				}
				return
			}
			if !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), tc.says+pathIf(tc.says, path)) {
				t.Fatalf("Update = %v; want ErrInsecureFile saying %q", err, tc.says)
			}
			if got := readString(t, path); got != oldSection || permOf(t, path) != tc.perm {
				t.Fatal("a refused file was changed")
			}
		})
	}
}

// pathIf returns path if says ends with the chmod hint, which names it.
func pathIf(says, path string) string {
	if strings.HasSuffix(says, "chmod 600 ") {
		return path
	}
	return ""
}

func TestUpdateRefusesFilesNotPrivate(t *testing.T) {
	t.Run("owned by another user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Fatal("this test chowns a file: run it as root (it runs as root in CI)")
		}
		path := filepath.Join(t.TempDir(), "credentials")
		writeFile(t, path, oldSection, 0o600)
		if err := os.Chown(path, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		err := Update(path, "dev", testCreds("new"), fixedNow)
		if !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), "owned by user 4242") {
			t.Fatalf("Update = %v", err)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := Update(path, "dev", testCreds("new"), fixedNow); !errors.Is(err, ErrInsecureFile) {
			t.Fatalf("Update = %v", err)
		}
	})
	t.Run("a FIFO", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- Update(path, "dev", testCreds("new"), fixedNow) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("Update = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Update blocks on a FIFO")
		}
	})
	t.Run("too large", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials")
		writeFile(t, path, strings.Repeat("# x\n", maxFileSize/4+1), 0o600)
		if err := Update(path, "dev", testCreds("new"), fixedNow); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("Update = %v", err)
		}
	})
}

// TestUpdateThroughSymlink: a link at the path is kept, and the file it points to is
// written (a dotfile manager's link into a repository stays a link).
func TestUpdateThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "dotfiles", "aws")
	if err := os.MkdirAll(store, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(store, "credentials")
	writeFile(t, target, beforeSection+oldSection, 0o600)
	link := filepath.Join(dir, "credentials")
	if err := os.Symlink("dotfiles/aws/credentials", link); err != nil {
		t.Fatal(err)
	}
	if err := Update(link, "dev", testCreds("new"), fixedNow); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if got := readString(t, target); got != beforeSection+sectionText("dev", "new", "\n") {
		t.Fatalf("target: %q", got)
	}
	if _, err := os.Stat(target + LockSuffix); err != nil {
		t.Fatalf("the lock is not next to the target: %v", err)
	}
	// A link to a file that is not there is refused, not turned into a file.
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nowhere/credentials", dangling); err != nil {
		t.Fatal(err)
	}
	err := Update(dangling, "dev", testCreds("new"), fixedNow)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "symbolic link to a file that does not exist") {
		t.Fatalf("Update through a dangling link = %v", err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the dangling link was replaced")
	}
}

func TestUpdateLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	holder, err := lock(path+LockSuffix, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = Update(path, "dev", testCreds("new"), fixedNow, func(o *Options) { o.LockTimeout = 200 * time.Millisecond })
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), path+LockSuffix) {
		t.Fatalf("Update = %v, want ErrLockTimeout naming the lock file", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("waited %v for a 200ms timeout", waited)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the file was written without the lock")
	}

	// A writer that waits gets the lock when the holder lets go.
	busy := make(chan struct{}, 1)
	lockBusy = func() {
		select {
		case busy <- struct{}{}:
		default:
		}
	}
	t.Cleanup(func() { lockBusy = nil })
	done := make(chan error, 1)
	go func() { done <- Update(path, "dev", testCreds("new"), fixedNow) }()
	<-busy
	release(holder)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != sectionText("dev", "new", "\n") {
		t.Fatalf("file: %q", got)
	}
}

func TestUpdateRefusesCredentials(t *testing.T) {
	good := testCreds("new")
	for _, tc := range []struct {
		name string
		c    creds.Credentials
		says string
	}{
		{"expired", creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s3cr3t", Expiration: testNow}, "expired at 2026-11-30T11:00:00Z"},
		{"no secret", creds.Credentials{AccessKeyID: "ASIA", Expiration: good.Expiration}, "no access key id or secret"},
		{"line break in the token", creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s3cr3t", SessionToken: "t0k\n[evil]", Expiration: good.Expiration}, "aws_session_token holds a line break"},
		{"CR in the secret", creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s3cr3t\r", Expiration: good.Expiration}, "aws_secret_access_key holds"},
		{"blank around the key id", creds.Credentials{AccessKeyID: " ASIA", SecretAccessKey: "s3cr3t", Expiration: good.Expiration}, "aws_access_key_id holds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credentials")
			err := Update(path, "dev", tc.c, fixedNow)
			if !errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Update = %v, want ErrInvalidCredentials saying %q", err, tc.says)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "t0k") {
				t.Fatalf("the error shows a secret: %v", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatal("a file was created")
			}
		})
	}
	if err := Update(filepath.Join(t.TempDir(), "c"), "a b", good, fixedNow); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Update with a bad name = %v", err)
	}
}

// TestUpdateSyntaxError: a file Update cannot edit safely is left alone; the error names
// the file and line, never the line's text (it may hold a secret).
func TestUpdateSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	in := "[dev]\naws_secret_access_key = s3cr3tInFile\n[dev]\n"
	writeFile(t, path, in, 0o600)
	err := Update(path, "dev", testCreds("new"), fixedNow)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || !strings.HasPrefix(err.Error(), "credentials file "+path+":3: section [dev] appears twice") {
		t.Fatalf("Update = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatal("the error shows the file's text")
	}
	if readString(t, path) != in {
		t.Fatal("the file was changed")
	}
}

func TestUpdateLeftoversAndNoOpWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	leftover := filepath.Join(dir, ".credentials.awskeep-12345.tmp")
	writeFile(t, leftover, "half a file", 0o600)
	unrelated := filepath.Join(dir, ".credentials.other.tmp")
	writeFile(t, unrelated, "not ours", 0o600)
	if err := Update(path, "dev", testCreds("new"), fixedNow); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a killed writer's temporary file is still there")
	}
	if _, err := os.Stat(unrelated); err != nil {
		t.Fatal("a file that is not awskeep's was removed")
	}
	before, _ := os.Stat(path)
	if err := Update(path, "dev", testCreds("new"), fixedNow); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Fatal("an Update that changes nothing replaced the file")
	}
}

// parseSections reads a credentials file the simple way (tests write simple files):
// section -> key -> value, and the number of times each section header appears.
func parseSections(data []byte) (map[string]map[string]string, map[string]int) {
	sections, count := map[string]map[string]string{}, map[string]int{}
	var cur map[string]string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[' && strings.HasSuffix(l, "]"):
			name := strings.TrimSpace(l[1 : len(l)-1])
			count[name]++
			cur = map[string]string{}
			sections[name] = cur
		case cur != nil:
			if k, v, ok := strings.Cut(l, "="); ok {
				cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
			} else if k, v, ok := strings.Cut(l, ":"); ok {
				cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return sections, count
}

func TestParseSectionsHelper(t *testing.T) {
	s, n := parseSections([]byte(beforeSection + oldSection + afterSection))
	if n["dev"] != 1 || s["dev"][KeySessionToken] != "oldtoken" || s["ci"]["aws_access_key_id"] != "AKIACI" || len(s) != 4 {
		t.Fatalf("parseSections: %v %v", s, n)
	}
}
