//go:build linux && cgo

package cfront

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/fastpath"
	"github.com/awskeep/awskeep/plugins/trust"
)

func TestEnvNamesAreFastpaths(t *testing.T) {
	if got := EnvNames(); !slices.Equal(got, fastpath.EnvNames) {
		t.Fatalf("front.c's front_env_names = %q, fastpath.EnvNames = %q: make them equal", got, fastpath.EnvNames)
	}
}

func TestRoutableIsFastpaths(t *testing.T) {
	for _, args := range [][]string{
		{"credential-process", "--profile", "prod"},
		{"credential-process", "--profile=prod"},
		{"credential-process", "--profile", "-x"},
		{"credential-process", "--profile", ""},
		{"credential-process", "--profile="},
		{"credential-process", "--profile", "prod", "--no-cache"},
		{"credential-process"},
		{"export", "--profile", "prod"},
		{"--profile", "prod", "credential-process"},
		{},
	} {
		if c, g := Routable(args), fastpath.Routable(args); c != g {
			t.Errorf("%q: C says routable %v, Go %v", args, c, g)
		}
	}
}

// home is a HOME with a config file and a stand-in full program; it sets the process
// environment (the C code reads it) for the test.
type home struct {
	dir, config, full string
}

func newHome(t *testing.T, config []byte) home {
	t.Helper()
	h := home{dir: t.TempDir()}
	h.config = filepath.Join(h.dir, ".aws", "config")
	h.full = filepath.Join(t.TempDir(), fastpath.FullProgram)
	if err := os.MkdirAll(filepath.Dir(h.config), 0o700); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{h.config: config, h.full: []byte("#!/bin/false\n")} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range fastpath.EnvNames {
		unsetenv(t, name)
	}
	t.Setenv("HOME", h.dir)
	return h
}

// unsetenv unsets name for the test and restores it after.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

// sameInputs checks that the C front serializes what fastpath.Inputs does, or declines
// only where Go would clean a path (the front then leaves the work to the full program).
func sameInputs(t *testing.T, args []string, full string) {
	t.Helper()
	want, err := fastpath.Inputs(args, os.LookupEnv, full)
	got, ok := Inputs(args, full)
	switch {
	case !ok && err == nil:
		// Go joins with filepath.Join, which cleans; C only concatenates, and declines
		// when that would differ.
		naive := os.Getenv("HOME") + "/.aws/config"
		if cf := os.Getenv("AWS_CONFIG_FILE"); cf != "" {
			naive = cf
			if cf == "~" || strings.HasPrefix(cf, "~/") {
				naive = os.Getenv("HOME") + cf[1:]
			}
		}
		if filepath.Clean(naive) == naive {
			t.Fatalf("the C front declined inputs Go serializes (config %q)", naive)
		}
	case ok && err != nil:
		t.Fatalf("the C front serialized inputs Go refuses: %v", err)
	case ok && !bytes.Equal(got, want):
		t.Fatalf("inputs differ:\nC  %q\nGo %q", got, want)
	case ok && Name(got) != fastpath.Name(want):
		t.Fatalf("names differ: C %s, Go %s", Name(got), fastpath.Name(want))
	}
}

func TestInputsAreFastpaths(t *testing.T) {
	args := []string{"credential-process", "--profile", "prod"}
	h := newHome(t, []byte("[profile prod]\nawskeep_key = pkcs11:token=a;object=b\n"))
	sameInputs(t, args, h.full)
	if _, ok := Inputs(args, h.full); !ok {
		t.Fatal("the C front declined an ordinary invocation")
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_PROFILE", "")
	sameInputs(t, args, h.full)
	sameInputs(t, []string{"credential-process", "--profile=prod"}, h.full)
	t.Setenv("AWS_CONFIG_FILE", "~/.aws/config")
	sameInputs(t, args, h.full)
	t.Setenv("AWS_CONFIG_FILE", h.config)
	sameInputs(t, args, h.full)
	t.Setenv("AWS_CONFIG_FILE", "~")
	sameInputs(t, args, h.full) // a directory: both refuse
	t.Setenv("AWS_CONFIG_FILE", "")
	t.Setenv("HOME", h.dir+"/")
	sameInputs(t, args, h.full) // Go cleans the path; C declines
	t.Setenv("HOME", h.dir)
	t.Setenv("XDG_CACHE_HOME", "relative")
	sameInputs(t, args, h.full)
	unsetenv(t, "HOME")
	sameInputs(t, args, h.full)
}

// FuzzInputs compares the C and Go serializations on arbitrary arguments, variable values
// and config bytes.
func FuzzInputs(f *testing.F) {
	f.Add("credential-process", "--profile", "prod", "eu-west-1", "", []byte("[profile prod]\n"), uint8(0))
	f.Add("a", "b=c", "", "x", "~", []byte{0, 1, 2}, uint8(3))
	f.Fuzz(func(t *testing.T, a0, a1, a2, region, configFile string, config []byte, shape uint8) {
		if len(config) > 1<<16 {
			return
		}
		for _, s := range []string{a0, a1, a2, region, configFile} {
			if strings.IndexByte(s, 0) >= 0 {
				return // no C string, argument or variable holds a NUL
			}
		}
		h := newHome(t, config)
		if shape&1 != 0 {
			t.Setenv("AWS_REGION", region)
		}
		if shape&2 != 0 {
			t.Setenv("AWS_CONFIG_FILE", configFile)
		}
		if shape&4 != 0 {
			t.Setenv("XDG_CACHE_HOME", region)
		}
		args := []string{a0, a1, a2}[:int(shape>>3)%4]
		sameInputs(t, args, h.full)
	})
}

func FuzzName(f *testing.F) {
	f.Add([]byte("awskeep route v1\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, g := Name(b), fastpath.Name(b); c != g {
			t.Fatalf("Name: C %s, Go %s", c, g)
		}
	})
}

func TestCacheDirIsCaches(t *testing.T) {
	for _, tc := range []struct{ xdg, home string }{
		{"", "/home/u"}, {"/x", "/home/u"}, {"rel", "/home/u"}, {"/x/", "/home/u"},
		{"", "/home/u/"}, {"", "/"}, {"/a//b", ""}, {"", ""},
	} {
		t.Setenv("XDG_CACHE_HOME", tc.xdg)
		t.Setenv("HOME", tc.home)
		want, err := cache.DirFrom(os.Getenv)
		got, ok := CacheDir()
		switch {
		case ok && (err != nil || got != want):
			t.Errorf("XDG_CACHE_HOME=%q HOME=%q: C %q, Go %q (%v)", tc.xdg, tc.home, got, want, err)
		case !ok && err == nil && (tc.xdg == "/x" || tc.home == "/home/u" && tc.xdg != "/x/"):
			t.Errorf("XDG_CACHE_HOME=%q HOME=%q: the C front declined the plain directory %q", tc.xdg, tc.home, want)
		}
	}
}

// answer is a cache with one entry and the answer the full program leaves for inputs.
type answer struct {
	c               *cache.Cache
	k               cache.Key
	cr              creds.Credentials
	dir, name, file string
	inputs          []byte
}

func newAnswer(tb testing.TB, inputs []byte) answer {
	tb.Helper()
	a := answer{dir: filepath.Join(tb.TempDir(), "awskeep"), inputs: inputs, name: fastpath.Name(inputs)}
	var err error
	if a.c, err = cache.Open(func(o *cache.Options) { o.Dir = a.dir }); err != nil {
		tb.Fatal(err)
	}
	a.k = cache.Key{KeyURI: "pkcs11:token=a;object=b", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Region: "us-east-1"}
	a.cr = creds.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Expiration: time.Now().Add(time.Hour)}
	if err := a.c.Put(context.Background(), a.k, a.cr); err != nil {
		tb.Fatal(err)
	}
	if err := a.c.PutAnswer(a.name, inputs, a.k, credproc.Marshal); err != nil {
		tb.Fatal(err)
	}
	a.file = filepath.Join(a.dir, a.name+".answer")
	return a
}

// TestReadAnswerIsCaches: for answers the full program writes, and for every way one
// goes bad, the C front prints exactly what cache.ReadAnswer gives, or nothing when it
// gives nothing.
func TestReadAnswerIsCaches(t *testing.T) {
	a := newAnswer(t, []byte("the inputs"))
	c, k, cr, dir, name, inputs, answerFile := a.c, a.k, a.cr, a.dir, a.name, a.inputs, a.file
	same := func(t *testing.T, what string, wantHit bool, in []byte) {
		t.Helper()
		want, gok := c.ReadAnswer(name, in)
		got, cok := ReadAnswer(dir, name, in)
		if gok != cok || !bytes.Equal(got, want) {
			t.Fatalf("%s: C gives %q (%v), Go %q (%v)", what, got, cok, want, gok)
		}
		if cok != wantHit {
			t.Fatalf("%s: hit %v, want %v", what, cok, wantHit)
		}
	}
	same(t, "fresh answer", true, inputs)
	if out, _ := ReadAnswer(dir, name, inputs); !bytes.Contains(out, []byte(`"SessionToken":"token"`)) {
		t.Fatalf("the answer is not the credential_process JSON: %q", out)
	}
	same(t, "other inputs", false, []byte("the inputs!"))
	same(t, "no inputs", false, nil)

	if err := os.Chmod(answerFile, 0o644); err != nil {
		t.Fatal(err)
	}
	same(t, "answer readable by others", false, inputs)
	os.Chmod(answerFile, 0o600)

	data, err := os.ReadFile(answerFile)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.SplitN(string(data), " ", 4)
	expired := []byte(strings.Join([]string{fields[0], fields[1], "1000", fields[3]}, " "))
	if err := os.WriteFile(answerFile, expired, 0o600); err != nil {
		t.Fatal(err)
	}
	same(t, "past its time", false, inputs)
	os.WriteFile(answerFile, data, 0o600)
	same(t, "restored", true, inputs)

	entry := filepath.Join(dir, strings.Fields(string(data))[3]+".json")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(entry, later, later); err != nil {
		t.Fatal(err)
	}
	same(t, "entry touched", false, inputs)
	if err := c.PutAnswer(name, inputs, k, credproc.Marshal); err != nil {
		t.Fatal(err)
	}
	same(t, "answer rewritten", true, inputs)
	if err := c.Put(context.Background(), k, cr); err != nil {
		t.Fatal(err)
	}
	same(t, "entry replaced", false, inputs)
	c.PutAnswer(name, inputs, k, credproc.Marshal)
	os.Rename(answerFile, answerFile+".real")
	os.Symlink(answerFile+".real", answerFile)
	same(t, "answer behind a symbolic link", false, inputs)
	os.Remove(answerFile)
	os.Rename(answerFile+".real", answerFile)
	same(t, "restored again", true, inputs)
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	same(t, "cache cleared", false, inputs)
}

// FuzzParseAnswer: the C parser never reads outside its input, and what it accepts is
// consistent: the length it reports fits the file.
func FuzzParseAnswer(f *testing.F) {
	id, dg := strings.Repeat("a", 64), strings.Repeat("0f", 16)
	f.Add([]byte("awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 3\nout"))
	f.Add([]byte("awskeep-answer 1 10 " + id + " 1 2 3 4 " + dg + " 0\n"))
	f.Add([]byte("awskeep-answer 1 010 " + id + " 1 2 3 4 " + dg + " 3\nout"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, ok := ParseAnswer(data)
		if !ok {
			return
		}
		if h.BodyOffset+h.AnswerLen != len(data) || h.NotAfter < 0 || len(h.Entry) != 64 || len(h.Digest) != 32 ||
			data[h.BodyOffset-1] != '\n' || !bytes.HasPrefix(data, []byte("awskeep-answer 1 ")) {
			t.Fatalf("accepted an inconsistent header %+v for %d bytes", h, len(data))
		}
	})
}

// FuzzDigest: the C front's inputs digest is the one core/cache stores (FNV-1a 128).
func FuzzDigest(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("awskeep route v1\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h := fnv.New128a()
		h.Write(b)
		if c, g := Digest(b), hex.EncodeToString(h.Sum(nil)); c != g {
			t.Fatalf("digest: C %s, Go %s", c, g)
		}
	})
}

// FuzzReadAnswer compares the C front and cache.ReadAnswer on an answer file whose header
// line is arbitrary, next to a real entry: both take it or both refuse it.
func FuzzReadAnswer(f *testing.F) {
	a := newAnswer(f, []byte("in"))
	c, dir, name, inputs, answerFile := a.c, a.dir, a.name, a.inputs, a.file
	valid, err := os.ReadFile(answerFile)
	if err != nil {
		f.Fatal(err)
	}
	nl := bytes.IndexByte(valid, '\n')
	header, body := valid[:nl], valid[nl+1:]
	f.Add(header, body)
	f.Add([]byte(strings.Replace(string(header), " 1 ", " 01 ", 1)), body)
	f.Add([]byte(strings.Replace(string(header), " ", "  ", 1)), body)
	f.Fuzz(func(t *testing.T, header, body []byte) {
		data := append(append(append([]byte{}, header...), '\n'), body...)
		if err := os.WriteFile(answerFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		want, gok := c.ReadAnswer(name, inputs)
		got, cok := ReadAnswer(dir, name, inputs)
		if gok != cok || !bytes.Equal(got, want) {
			t.Fatalf("C gives %q (%v), Go %q (%v)", got, cok, want, gok)
		}
	})
}

// TestTrustOpenIsTrusts: the C front runs a full program where plugins/trust.Open would,
// and refuses it with the same words where trust.Open does.
func TestTrustOpenIsTrusts(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	mk := func(path string, mode os.FileMode) string {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mk("bin/awskeep-full", 0o755)
	loose := mk("bin/loose", 0o775)
	mk("open/awskeep-full", 0o755)
	os.Chmod(filepath.Join(root, "open"), 0o777)
	sticky := mk("sticky/awskeep-full", 0o755)
	os.Chmod(filepath.Join(root, "sticky"), 0o1777)
	os.Symlink(good, filepath.Join(root, "link"))
	os.Symlink("bin", filepath.Join(root, "rel"))
	os.Symlink("loop", filepath.Join(root, "loop"))
	for _, p := range []string{
		good, loose, filepath.Join(root, "open/awskeep-full"), sticky,
		filepath.Join(root, "link"), filepath.Join(root, "rel/awskeep-full"),
		filepath.Join(root, "rel/../bin/awskeep-full"), filepath.Join(root, "bin"),
		filepath.Join(root, "missing"), filepath.Join(root, "loop"),
		filepath.Join(root, "bin/awskeep-full/x"),
	} {
		f, gerr := trust.Open(p)
		if f != nil {
			f.Close()
		}
		cerr := TrustOpen(p)
		if (gerr == nil) != (cerr == nil) {
			t.Errorf("%s: C says %v, Go %v", p, cerr, gerr)
			continue
		}
		var unsafe *trust.UnsafeFileError
		if gerr != nil && errors.As(gerr, &unsafe) && cerr.Error() != gerr.Error() {
			t.Errorf("%s: C says %q, Go %q", p, cerr, gerr)
		}
	}
}
