package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden help texts in testdata/help")

// commandPaths lists every command of the tree as its words after "awskeep", the root as
// an empty list; cobra's hidden completion helpers are left out.
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	paths := [][]string{prefix}
	for _, sub := range c.Commands() {
		if sub.Hidden || strings.HasPrefix(sub.Name(), "__") {
			continue
		}
		paths = append(paths, commandPaths(sub, append(append([]string(nil), prefix...), sub.Name()))...)
	}
	return paths
}

func goldenName(path []string) string {
	if len(path) == 0 {
		return "awskeep.golden"
	}
	return "awskeep-" + strings.Join(path, "-") + ".golden"
}

// TestHelpGolden pins the help of every command: `awskeep CMD --help` prints exactly the
// golden text on stdout, nothing on stderr, and exits 0; `awskeep help CMD` and
// `awskeep CMD -h` print the same. Run with -update after changing a help text.
func TestHelpGolden(t *testing.T) {
	root := newRootCommand(&env{})
	seen := map[string]bool{}
	for _, path := range commandPaths(root, nil) {
		name := goldenName(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			r := runAwskeep(t, "", nil, append(append([]string(nil), path...), "--help")...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("--help: exit %d, stderr %q", r.code, r.stderr)
			}
			golden := filepath.Join("testdata", "help", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestHelpGolden -update)", err)
			}
			if r.stdout != string(want) {
				t.Fatalf("help differs from %s (run go test -run TestHelpGolden -update if intended):\n%s", golden, r.stdout)
			}
			if short := runAwskeep(t, "", nil, append(append([]string(nil), path...), "-h")...); short.stdout != r.stdout {
				t.Errorf("-h prints something else than --help")
			}
			if len(path) > 0 {
				if viaHelp := runAwskeep(t, "", nil, append([]string{"help"}, path...)...); viaHelp.stdout != r.stdout || viaHelp.code != 0 {
					t.Errorf("awskeep help %s prints something else than --help", strings.Join(path, " "))
				}
			}
		})
	}
	// A golden file without a command is a command that was removed or renamed.
	files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.golden"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s belongs to no command; remove it", f)
		}
	}
}

// TestGroupsListTheirSubcommands checks that a bare group command prints its help.
func TestGroupsListTheirSubcommands(t *testing.T) {
	for _, group := range []string{"keys", "plugins", "cache"} {
		bare := runAwskeep(t, "", nil, group)
		help := runAwskeep(t, "", nil, group, "--help")
		if bare.code != 0 || bare.stdout != help.stdout || !strings.Contains(bare.stdout, "Available Commands:") {
			t.Errorf("awskeep %s: exit %d, does not print its help:\n%s", group, bare.code, bare.stdout)
		}
	}
}

func TestFlagsAreGNUStyle(t *testing.T) {
	r := runAwskeep(t, "", nil, "credential-process", "--help")
	for _, want := range []string{"--profile string", "--duration duration", "--no-cache", "--log-level string", "--debug"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("credential-process help lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "\n  -profile") {
		t.Error("single-dash long flags in help")
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "# bash completion V2 for awskeep",
		"zsh":  "#compdef awskeep",
		"fish": "# fish completion for awskeep",
	} {
		r := runAwskeep(t, "", nil, "completion", shell)
		if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Errorf("completion %s: exit %d, starts %.60q", shell, r.code, r.stdout)
		}
	}
	// Completion of subcommands and flags works through cobra's hidden __complete.
	r := runAwskeep(t, "", nil, "__complete", "ke")
	if !strings.Contains(r.stdout, "keys") {
		t.Errorf("__complete ke: %q", r.stdout)
	}
	r = runAwskeep(t, "", nil, "__complete", "export", "--for")
	if !strings.Contains(r.stdout, "--format") {
		t.Errorf("__complete export --for: %q", r.stdout)
	}
}

func TestVersionFlag(t *testing.T) {
	flagOut := runAwskeep(t, "", nil, "--version")
	cmdOut := runAwskeep(t, "", nil, "version")
	if flagOut.code != 0 || flagOut.stdout != cmdOut.stdout || !strings.HasPrefix(flagOut.stdout, "awskeep ") {
		t.Fatalf("--version %q, version %q", flagOut.stdout, cmdOut.stdout)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"}, {"keys", "frobnicate"}, {"import", "--bogus"}, {"export", "--format", "yaml", "--profile", "p"},
		{"credential-process", "--duration", "soon"}, {"--log-level", "loud", "version"}, {"exec", "--profile", "p"},
		{"import", "--key", "pkcs11:object=a", "stray"},
		{"credential-process", "--profile", "p", "--timeout", "0"}, {"credential-process", "--profile", "p", "--timeout", "-5s"},
		{"import", "--key", "pkcs11:object=a", "--timeout", "0s"},
	} {
		r := runAwskeep(t, "", nil, args...)
		if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "awskeep: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runAwskeep(t, "", nil, "import", "--key", "pkcs11:object=a", "s3cr3tValue"); strings.Contains(r.stderr, "s3cr3tValue") {
		t.Errorf("a stray argument is echoed: %s", r.stderr)
	}
}

func TestDurationFlag(t *testing.T) {
	for in, want := range map[string]string{"3600": "1h0m0s", "1h": "1h0m0s", "90m": "1h30m0s", "900": "15m0s"} {
		var d durationValue
		if err := d.Set(in); err != nil || d.String() != want {
			t.Errorf("Set(%q) = %v, %v; want %s", in, d.String(), err, want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "soon", "1x", "-1h"} {
		var d durationValue
		if err := d.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

// FuzzDurationFlag: --duration never panics, accepts only positive durations, and what it
// prints parses back to the same value.
func FuzzDurationFlag(f *testing.F) {
	for _, s := range []string{"3600", "1h", "90m", "0", "-1", "1h30m", "9999999999999", "1.5h", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d durationValue
		if d.Set(s) != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("Set(%q) accepted %v", s, time.Duration(d))
		}
		var again durationValue
		if err := again.Set(d.String()); err != nil || again != d {
			t.Fatalf("round trip of %q: %v -> %v, %v", s, d.String(), again.String(), err)
		}
	})
}
