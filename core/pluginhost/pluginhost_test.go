package pluginhost_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins/conformance"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSearchPath(t *testing.T) {
	opts := pluginhost.Options{
		Dir:        "/flag",
		Getenv:     envOf(map[string]string{"AWSKEEP_PLUGIN_DIR": "/env", "HOME": "/home/u"}),
		Executable: func() (string, error) { return "/opt/awskeep/bin/awskeep", nil },
	}
	want := []string{"/flag", "/env", "/opt/awskeep/bin", "/home/u/.local/share/awskeep/plugins",
		"/usr/local/lib/awskeep/plugins", "/usr/lib/awskeep/plugins"}
	if got := pluginhost.SearchPath(opts); !reflect.DeepEqual(got, want) {
		t.Fatalf("SearchPath = %v, want %v", got, want)
	}
	opts.Getenv = envOf(map[string]string{"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"})
	opts.Dir = ""
	if got := pluginhost.SearchPath(opts); got[1] != "/xdg/awskeep/plugins" {
		t.Fatalf("SearchPath with XDG_DATA_HOME = %v", got)
	}
}

// examplePlugin builds the SDK's example plugin into a fresh directory.
func examplePlugin(t *testing.T) (dir, path string) {
	t.Helper()
	path = conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(path), path
}

func opts(dir string) pluginhost.Options {
	return pluginhost.Options{
		Dir:        dir,
		Getenv:     envOf(map[string]string{"HOME": "/nonexistent"}),
		Executable: func() (string, error) { return "/nonexistent/awskeep", nil },
	}
}

func TestFindAndStart(t *testing.T) {
	dir, path := examplePlugin(t)
	got, err := pluginhost.Find("example", opts(dir))
	if err != nil || got != path {
		t.Fatalf("Find = %q, %v", got, err)
	}
	if list := pluginhost.Installed(opts(dir)); len(list) != 1 || list[0] != path {
		t.Fatalf("Installed = %v", list)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, info, err := pluginhost.Start(ctx, "example", nil, opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if info.Name != "example" {
		t.Fatalf("Info = %+v", info)
	}

	t.Run("a binary that does not serve the scheme is refused", func(t *testing.T) {
		impostor := filepath.Join(dir, pluginhost.Prefix+"vault")
		if err := os.Link(path, impostor); err != nil {
			t.Fatal(err)
		}
		_, _, err := pluginhost.Start(ctx, "vault", nil, opts(dir))
		if err == nil || !strings.Contains(err.Error(), `does not serve scheme "vault"`) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestFindMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := pluginhost.Find("pkcs11", opts(dir))
	if !errors.Is(err, pluginhost.ErrNotFound) || !strings.Contains(err.Error(), "awskeep-plugin-pkcs11 is not in "+dir) ||
		!strings.Contains(err.Error(), "--plugin-dir") {
		t.Fatalf("got %v", err)
	}
	for _, bad := range []string{"../x", "", "A"} {
		if _, err := pluginhost.Find(bad, opts(dir)); !errors.Is(err, pluginhost.ErrNotFound) {
			t.Fatalf("Find(%q) = %v", bad, err)
		}
	}
}

func TestWritableByOthersIsRefused(t *testing.T) {
	dir, path := examplePlugin(t)
	for _, mode := range []os.FileMode{0o775, 0o757} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := pluginhost.Start(context.Background(), "example", nil, opts(dir))
		if !errors.Is(err, pluginhost.ErrUnsafe) || !strings.Contains(err.Error(), "chmod go-w") {
			t.Fatalf("mode %o: got %v", mode, err)
		}
	}
}

func TestPinnedChecksum(t *testing.T) {
	dir, path := examplePlugin(t)
	pinFile := filepath.Join(t.TempDir(), "plugins.sha256")
	o := opts(dir)
	o.PinFile = pinFile

	sum, err := pluginhost.Checksum(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pinFile, []byte("# pins\n"+sum+"  example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, _, err := pluginhost.Start(context.Background(), "example", nil, o)
	if err != nil {
		t.Fatalf("a plugin matching its pin was refused: %v", err)
	}
	p.Close()

	other := strings.Repeat("ab", 32)
	if err := os.WriteFile(pinFile, []byte(other+"  awskeep-plugin-example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = pluginhost.Start(context.Background(), "example", nil, o)
	if !errors.Is(err, pluginhost.ErrUnsafe) || !strings.Contains(err.Error(), "awskeep plugins pin") {
		t.Fatalf("a plugin not matching its pin: got %v", err)
	}

	if err := os.WriteFile(pinFile, []byte("nothex example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pluginhost.LoadPins(pinFile); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("malformed pin file: got %v", err)
	}
}
