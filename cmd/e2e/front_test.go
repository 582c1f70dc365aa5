package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/buildtest"
)

// frontCopy copies the front (awskeep) and the full program (awskeep-full) into a
// directory of the test's own, where it may break the full program without disturbing
// other tests. It returns both paths. goFront takes the Go front (cmd/awskeep), the
// awskeep of other systems, in place of the installed one (on linux the C front).
func frontCopy(t *testing.T, goFront bool) (front, full string) {
	t.Helper()
	dir := t.TempDir()
	frontDir := binDir
	if goFront {
		frontDir = t.TempDir()
		if err := buildtest.Build(".", frontDir, []string{buildtest.FrontPackage}, func(o *buildtest.Options) { o.GoFront = true }); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"awskeep", "awskeep-full"} {
		from := binDir
		if name == "awskeep" {
			from = frontDir
		}
		src, err := os.Open(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(dst, src)
		src.Close()
		if err := errors.Join(err, dst.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "awskeep"), filepath.Join(dir, "awskeep-full")
}

func chmodT(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestFront: awskeep is a small front that answers a cached credential-process --profile
// itself, and runs awskeep-full, next to it, for everything else; the installed front (on
// linux the C one) and the Go front alike.
func TestFront(t *testing.T) {
	for _, tc := range []struct {
		name    string
		goFront bool
	}{{"installed front", false}, {"Go front", true}} {
		t.Run(tc.name, func(t *testing.T) { testFront(t, tc.goFront) })
	}
}

func testFront(t *testing.T, goFront bool) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	front, full := frontCopy(t, goFront)
	profile := func(session string) string {
		return awskeepProfile("prod", u.keyURI("prod"), "awskeep_role_arn = "+world.roleARN,
			"role_session_name = "+session, "endpoint_url = "+world.server.URL)
	}
	// The config file is an input of the answer, and may hold secrets of other tools (the
	// AWS CLI reads keys from it too): they must not be copied into the cache.
	const configSecret = "CONFIGSECRETMARKER0000000000000000000000"
	u.writeConfig(t, profile("front"), "[profile other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = "+configSecret+"\n")
	args := []string{"credential-process", "--profile", "prod"}

	first := u.exec(front, "", nil, args...)
	mustSucceed(t, first, "the first credential-process")
	answers, _ := filepath.Glob(filepath.Join(u.cacheDir(), "*.answer"))
	if len(answers) != 1 {
		t.Fatalf("the full program left %d answers for the front, want 1", len(answers))
	}
	cached, _ := filepath.Glob(filepath.Join(u.cacheDir(), "*"))
	for _, f := range cached {
		if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), configSecret) {
			t.Fatalf("%s holds a secret of the config file", f)
		}
	}

	t.Run("a cache hit runs nothing but the front", func(t *testing.T) {
		// With the full program not executable, only the front can answer.
		chmodT(t, full, 0o644)
		defer chmodT(t, full, 0o755)
		r := u.exec(front, "", nil, args...)
		mustSucceed(t, r, "credential-process from the cache")
		if r.stdout != first.stdout {
			t.Fatal("the front printed other credentials than the cache holds")
		}
		// Anything else goes to the full program, here unable to run: one line.
		for _, other := range [][]string{
			append(args, "--no-cache"),
			{"credential-process", "--profile=prod"}, // other arguments, other inputs
			{"version"},
		} {
			r := u.exec(front, "", nil, other...)
			mustFailClearly(t, r, "run "+full, "reinstall awskeep")
		}
		r = u.exec(front, "", []string{"AWSKEEP_LOG_LEVEL=debug"}, args...)
		mustFailClearly(t, r, "run "+full)
	})

	t.Run("AWSKEEP_LOG_LEVEL=debug: the full program answers and logs the hit", func(t *testing.T) {
		before := stsCalls(t)
		r := u.exec(front, "", []string{"AWSKEEP_LOG_LEVEL=debug"}, args...)
		mustSucceed(t, r, "credential-process at debug level")
		if r.stdout != first.stdout || !strings.Contains(r.stderr, "cache hit") || stsCalls(t) != before {
			t.Fatalf("want the cached credentials and a logged hit; stderr:\n%s", r.stderr)
		}
	})

	t.Run("a changed profile is not answered from the old answer", func(t *testing.T) {
		u.writeConfig(t, profile("front2"))
		before := stsCalls(t)
		r := u.exec(front, "", nil, args...)
		mustSucceed(t, r, "credential-process after the profile changed")
		if calls := stsCalls(t) - before; calls != 1 {
			t.Fatalf("%d STS calls, want 1 for the new role session", calls)
		}
		if arn := callerARN(t, u.credentialProcessOutput(r.stdout)); !strings.Contains(arn, "assumed-role/deployer/front2") {
			t.Fatalf("the credentials are %s, want the new session front2", arn)
		}
	})

	t.Run("32 fronts at once make one STS call", func(t *testing.T) {
		u.writeConfig(t, profile("front32"))
		oneSTSCallFor(t, 32, func() result { return u.exec(front, "", nil, args...) })
	})

	t.Run("32 fronts of a cache directory not made yet make one STS call", func(t *testing.T) {
		xdg := filepath.Join(t.TempDir(), "fresh", "cache")
		env := []string{"XDG_CACHE_HOME=" + xdg}
		oneSTSCallFor(t, 32, func() result { return u.exec(front, "", env, args...) })
		fi, err := os.Stat(filepath.Join(xdg, "awskeep"))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("the cache directory: %v, %v; want mode 0700", fi, err)
		}
		// And the next one is answered from there by the front alone.
		chmodT(t, full, 0o644)
		defer chmodT(t, full, 0o755)
		mustSucceed(t, u.exec(front, "", env, args...), "credential-process from the fresh cache")
	})

	t.Run("under a plugin (AWSKEEP_PLUGIN_DEPTH) it refuses before the cache, in one line", func(t *testing.T) {
		r := u.exec(front, "", []string{"AWSKEEP_PLUGIN_DEPTH=1"}, args...)
		mustFailClearly(t, r, "may not run under an awskeep plugin")
		if r.stdout != "" {
			t.Fatal("the front answered from the cache under a plugin")
		}
	})

	t.Run("a full program others could change, or none, is refused in one line", func(t *testing.T) {
		chmodT(t, full, 0o775)
		r := u.exec(front, "", nil, args...)
		chmodT(t, full, 0o755)
		mustFailClearly(t, r, "refusing "+full, "writable by group or others")
		if r.stdout != "" {
			t.Fatal("the front answered although it refuses its full program")
		}
		if err := os.Rename(full, full+".away"); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(full+".away", full)
		mustFailClearly(t, u.exec(front, "", nil, args...), "refusing "+full)
	})
}
