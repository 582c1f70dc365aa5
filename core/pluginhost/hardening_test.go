package pluginhost_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/pluginhost"
)

// nobody is the uid the tests give files and directories that "another user" owns (the
// tests run as root).
const nobody = 65534

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
	return path
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatalf("chown %s: %v (the tests run as root)", path, err)
	}
}

// TestStartRefusesDirectoriesOthersCanWrite: every directory from / to the plugin, through
// its symlinks, must be writable only by root or the current user (a sticky directory such
// as /tmp is fine), and owned by one of them.
func TestStartRefusesDirectoriesOthersCanWrite(t *testing.T) {
	_, genuine := examplePlugin(t)
	const bin = pluginhost.Prefix + "example"
	tests := []struct {
		name string
		// setup installs the plugin under root and returns the plugin directory and what
		// the refusal must say (nil: it starts).
		setup func(t *testing.T, root string) (dir string, wants []string)
	}{
		{"group-writable plugin directory", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o775)
			copyFile(t, genuine, filepath.Join(dir, bin), 0o755)
			return dir, []string{"directory " + dir + " is writable by group or others (mode 0775)", "chmod go-w " + dir}
		}},
		{"world-writable plugin directory", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o777)
			copyFile(t, genuine, filepath.Join(dir, bin), 0o755)
			return dir, []string{"directory " + dir + " is writable by group or others (mode 0777)", "chmod go-w " + dir}
		}},
		{"world-writable directory above the plugin directory", func(t *testing.T, root string) (string, []string) {
			up := mkdir(t, filepath.Join(root, "shared"), 0o777)
			dir := mkdir(t, filepath.Join(up, "plugins"), 0o700)
			copyFile(t, genuine, filepath.Join(dir, bin), 0o755)
			return dir, []string{"directory " + up + " is writable by group or others", "chmod go-w " + up}
		}},
		{"plugin directory of another user", func(t *testing.T, root string) (string, []string) {
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o755)
			copyFile(t, genuine, filepath.Join(dir, bin), 0o755)
			chown(t, dir, nobody)
			return dir, []string{"directory " + dir + " belongs to another user (uid 65534)"}
		}},
		{"symlink in a world-writable directory", func(t *testing.T, root string) (string, []string) {
			store := mkdir(t, filepath.Join(root, "store"), 0o755)
			copyFile(t, genuine, filepath.Join(store, "example-1.0"), 0o755)
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o777)
			if err := os.Symlink(filepath.Join(store, "example-1.0"), filepath.Join(dir, bin)); err != nil {
				t.Fatal(err)
			}
			return dir, []string{"directory " + dir + " is writable", "chmod go-w " + dir}
		}},
		{"symlink to a plugin in a world-writable directory", func(t *testing.T, root string) (string, []string) {
			store := mkdir(t, filepath.Join(root, "store"), 0o777)
			copyFile(t, genuine, filepath.Join(store, "example-1.0"), 0o755)
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o755)
			if err := os.Symlink("../store/example-1.0", filepath.Join(dir, bin)); err != nil {
				t.Fatal(err)
			}
			return dir, []string{"directory " + store + " is writable", "chmod go-w " + store}
		}},
		{"sticky world-writable directory above a private one", func(t *testing.T, root string) (string, []string) {
			up := mkdir(t, filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
			dir := mkdir(t, filepath.Join(up, "plugins"), 0o700)
			copyFile(t, genuine, filepath.Join(dir, bin), 0o755)
			return dir, nil
		}},
		{"symlink between private directories", func(t *testing.T, root string) (string, []string) {
			store := mkdir(t, filepath.Join(root, "store"), 0o755)
			copyFile(t, genuine, filepath.Join(store, "example-1.0"), 0o755)
			dir := mkdir(t, filepath.Join(root, "plugins"), 0o755)
			if err := os.Symlink(filepath.Join(store, "example-1.0"), filepath.Join(dir, bin)); err != nil {
				t.Fatal(err)
			}
			return dir, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, wants := tt.setup(t, t.TempDir())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, _, err := pluginhost.Start(ctx, "example", nil, opts(dir))
			if wants == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("started; want a refusal saying %q", wants)
			}
			if !errors.Is(err, pluginhost.ErrUnsafe) {
				t.Fatalf("got %v, want ErrUnsafe", err)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestPinFileMustBeSafe: the pin file decides which binaries run, so it follows the
// plugins' rules: not writable by group or others, owned by root or the current user, in
// directories only they can change.
func TestPinFileMustBeSafe(t *testing.T) {
	dir, path := examplePlugin(t)
	sum, err := pluginhost.Checksum(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// setup writes a pin file matching the plugin and returns its path and what the
		// refusal must say (nil: it starts).
		setup func(t *testing.T, root string) (pinFile string, wants []string)
	}{
		{"private", func(t *testing.T, root string) (string, []string) {
			return writePin(t, filepath.Join(root, "plugins.sha256"), sum, 0o644), nil
		}},
		{"writable by others", func(t *testing.T, root string) (string, []string) {
			f := writePin(t, filepath.Join(root, "plugins.sha256"), sum, 0o666)
			return f, []string{f + " is writable by group or others (mode 0666)", "chmod go-w " + f}
		}},
		{"owned by another user", func(t *testing.T, root string) (string, []string) {
			f := writePin(t, filepath.Join(root, "plugins.sha256"), sum, 0o644)
			chown(t, f, nobody)
			return f, []string{f + " belongs to another user (uid 65534)"}
		}},
		{"in a world-writable directory", func(t *testing.T, root string) (string, []string) {
			d := mkdir(t, filepath.Join(root, "config"), 0o777)
			return writePin(t, filepath.Join(d, "plugins.sha256"), sum, 0o600), []string{"directory " + d + " is writable", "chmod go-w " + d}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(dir)
			var wants []string
			o.PinFile, wants = tt.setup(t, t.TempDir())
			p, _, err := pluginhost.Start(context.Background(), "example", nil, o)
			if wants == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("started; want a refusal saying %q", wants)
			}
			if !errors.Is(err, pluginhost.ErrUnsafe) || !strings.Contains(err.Error(), "pin file") {
				t.Fatalf("got %v, want ErrUnsafe naming the pin file", err)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func writePin(t *testing.T, path, sum string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(sum+"  example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildEvil builds a program that writes marker and exits: the "other user's program" of
// the race below. It is a binary, not a script: a script could not run from a descriptor
// closed at exec, and the test would prove nothing.
func buildEvil(t *testing.T, marker string) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nimport \"os\"\n\nfunc main() {\n\t_ = os.WriteFile(" +
		"\"" + marker + "\", []byte(\"the evil binary ran\\n\"), 0o600)\n\tos.Exit(1)\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", "evil", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build evil: %v\n%s", err, out)
	}
	return filepath.Join(dir, "evil")
}

// TestStartExecutesTheFileItChecked: while the host starts the plugin again and again, a
// goroutine swaps the plugin's symlink between the genuine binary and an evil one that
// the checks refuse. Checking one file and executing another (by name, after the swap)
// would run the evil binary; the host must only ever run what it checked.
func TestStartExecutesTheFileItChecked(t *testing.T) {
	_, genuine := examplePlugin(t)
	marker := filepath.Join(t.TempDir(), "evil-ran")
	evilBin := buildEvil(t, marker)
	tests := []struct {
		name   string
		pinned bool
		// evil installs the evil binary where the checks refuse it (or, pinned, where only
		// the pin refuses it) and returns its path.
		evil func(t *testing.T) string
	}{
		{"unpinned, evil binary owned by another user", false, func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "evil")
			copyFile(t, evilBin, path, 0o755)
			chown(t, path, nobody)
			return path
		}},
		{"unpinned, evil binary in a world-writable directory", false, func(t *testing.T) string {
			dir := mkdir(t, filepath.Join(t.TempDir(), "shared"), 0o777)
			path := filepath.Join(dir, "evil")
			copyFile(t, evilBin, path, 0o755)
			return path
		}},
		{"pinned, evil binary that passes every other check", true, func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "evil")
			copyFile(t, evilBin, path, 0o755)
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Remove(marker); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			evil := tt.evil(t)
			linkDir := t.TempDir()
			o := opts(linkDir)
			if tt.pinned {
				sum, err := pluginhost.Checksum(genuine)
				if err != nil {
					t.Fatal(err)
				}
				o.PinFile = writePin(t, filepath.Join(t.TempDir(), "plugins.sha256"), sum, 0o600)
			}
			link := filepath.Join(linkDir, pluginhost.Prefix+"example")
			point := func(target string) error {
				tmp := link + ".new"
				if err := os.Symlink(target, tmp); err != nil {
					return err
				}
				return os.Rename(tmp, link)
			}
			if err := point(genuine); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					target := genuine
					if i%2 == 1 {
						target = evil
					}
					if err := point(target); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			var started, refused int
			var unexpected error
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				p, _, err := pluginhost.Start(ctx, "example", nil, o)
				cancel()
				if err == nil {
					started++
					p.Close()
				} else {
					refused++
					if !errors.Is(err, pluginhost.ErrUnsafe) && unexpected == nil {
						unexpected = err
					}
				}
				if _, err := os.Stat(marker); err == nil {
					break
				}
			}
			close(stop)
			wg.Wait()
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("the evil binary ran (%d starts, %d refusals; first unexpected error: %v)", started, refused, unexpected)
			}
			if unexpected != nil {
				t.Fatalf("a refusal that is not ErrUnsafe: %v", unexpected)
			}
			if started == 0 || refused == 0 {
				t.Fatalf("%d starts, %d refusals: the race did not go both ways, the test proves nothing", started, refused)
			}
			t.Logf("%d starts, %d refusals", started, refused)
		})
	}
}
