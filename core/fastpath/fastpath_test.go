package fastpath

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRoutable(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"credential-process", "--profile", "prod"}, true},
		{[]string{"credential-process", "--profile=prod"}, true},
		{[]string{"credential-process", "--profile", "prod", "--no-cache"}, false},
		{[]string{"credential-process", "--profile", "prod", "--mfa-code", "123456"}, false},
		{[]string{"credential-process", "--profile", "--no-cache"}, false},
		{[]string{"credential-process", "--profile", ""}, false},
		{[]string{"credential-process", "--profile="}, false},
		{[]string{"credential-process", "--key", "pkcs11:token=a;object=b"}, false},
		{[]string{"credential-process"}, false},
		{[]string{"export", "--profile", "prod"}, false},
		{[]string{"--profile", "prod", "credential-process"}, false},
		{nil, false},
	} {
		if got := Routable(tc.args); got != tc.want {
			t.Errorf("Routable(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// setup is a home with a config file and a stand-in for the full program.
type setup struct {
	env    map[string]string
	config string
	full   string
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	home := t.TempDir()
	s := &setup{
		env:    map[string]string{"HOME": home, "AWS_REGION": "eu-west-1", "PWD": "/somewhere", "AWSKEEP_PIN": "1234"},
		config: filepath.Join(home, ".aws", "config"),
		full:   filepath.Join(t.TempDir(), FullProgram),
	}
	if err := os.MkdirAll(filepath.Dir(s.config), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.config, "[profile prod]\nawskeep_key = pkcs11:token=a;object=b\n")
	writeFile(t, s.full, "#!/bin/false\n")
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *setup) lookupEnv(name string) (string, bool) { v, ok := s.env[name]; return v, ok }

func (s *setup) fingerprint(t *testing.T, args ...string) string {
	t.Helper()
	fp, err := nameOf(args, s.lookupEnv, s.full)
	if err != nil {
		t.Fatalf("Inputs: %v", err)
	}
	return fp
}

// TestFingerprintCoversEveryInput: changing any input changes the fingerprint; changing
// anything else does not.
func TestFingerprintCoversEveryInput(t *testing.T) {
	args := []string{"credential-process", "--profile", "prod"}
	s := newSetup(t)
	base := s.fingerprint(t, args...)
	if !IsName(base) {
		t.Fatalf("name %q is not 16 hex digits", base)
	}
	if again := s.fingerprint(t, args...); again != base {
		t.Fatal("the same inputs gave another fingerprint")
	}

	differs := func(t *testing.T, what string, change func(s *setup), args ...string) {
		t.Helper()
		s := newSetup(t)
		before := s.fingerprint(t, args...)
		change(s)
		if s.fingerprint(t, args...) == before {
			t.Errorf("%s: the fingerprint did not change", what)
		}
	}
	for _, name := range EnvNames {
		if name == "HOME" || name == "AWS_CONFIG_FILE" {
			continue // they move the config file; below
		}
		differs(t, name+" set", func(s *setup) { s.env[name] = "x" }, args...)
		differs(t, name+" set empty", func(s *setup) { s.env[name] = "" }, args...)
	}
	differs(t, "AWS_REGION unset", func(s *setup) { delete(s.env, "AWS_REGION") }, args...)
	differs(t, "the config file's bytes", func(s *setup) {
		writeFile(t, s.config, "[profile prod]\nawskeep_key = pkcs11:token=a;object=c\n")
	}, args...)
	differs(t, "AWS_CONFIG_FILE naming a copy", func(s *setup) {
		data, _ := os.ReadFile(s.config)
		other := filepath.Join(t.TempDir(), "config")
		writeFile(t, other, string(data))
		s.env["AWS_CONFIG_FILE"] = other
	}, args...)
	differs(t, "the full program replaced", func(s *setup) {
		writeFile(t, s.full+".new", "#!/bin/true\n")
		if err := os.Rename(s.full+".new", s.full); err != nil {
			t.Fatal(err)
		}
	}, args...)
	differs(t, "the full program touched", func(s *setup) {
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(s.full, later, later); err != nil {
			t.Fatal(err)
		}
	}, args...)

	s2 := newSetup(t)
	a := s2.fingerprint(t, "credential-process", "--profile", "prod")
	if b := s2.fingerprint(t, "credential-process", "--profile", "dev"); a == b {
		t.Error("another profile name gave the same fingerprint")
	}
	if b := s2.fingerprint(t, "credential-process", "--profile=prod"); a == b {
		t.Error("another spelling of the arguments gave the same fingerprint")
	}
	// Variables the settings do not come from, secrets among them, change nothing.
	s2.env["PWD"], s2.env["AWSKEEP_PIN"], s2.env["TERM"] = "/elsewhere", "9999", "xterm"
	if b := s2.fingerprint(t, "credential-process", "--profile", "prod"); a != b {
		t.Error("a variable outside EnvNames changed the fingerprint")
	}
}

func TestFingerprintFails(t *testing.T) {
	args := []string{"credential-process", "--profile", "prod"}
	s := newSetup(t)
	if err := os.Remove(s.config); err != nil {
		t.Fatal(err)
	}
	if _, err := nameOf(args, s.lookupEnv, s.full); err == nil {
		t.Error("no error without a config file")
	}
	s = newSetup(t)
	if _, err := nameOf(args, s.lookupEnv, s.full+"-missing"); err == nil {
		t.Error("no error without the full program")
	}
	s = newSetup(t)
	delete(s.env, "HOME")
	if _, err := nameOf(args, s.lookupEnv, s.full); err == nil {
		t.Error("no error without HOME or AWS_CONFIG_FILE")
	}
	s = newSetup(t)
	s.env["AWS_CONFIG_FILE"] = filepath.Dir(s.config)
	if _, err := nameOf(args, s.lookupEnv, s.full); err == nil {
		t.Error("no error for a config path that is a directory")
	}
}

func TestConfigPath(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/h"}, "/h/.aws/config"},
		{map[string]string{"HOME": "/h", "AWS_CONFIG_FILE": "/etc/aws"}, "/etc/aws"},
		{map[string]string{"HOME": "/h", "AWS_CONFIG_FILE": "~/cfg"}, "/h/cfg"},
		{map[string]string{"HOME": "/h", "AWS_CONFIG_FILE": "~"}, "/h"},
		{map[string]string{"HOME": "/h", "AWS_CONFIG_FILE": "~x/cfg"}, "~x/cfg"},
	} {
		got, err := ConfigPath(func(n string) string { return tc.env[n] })
		if err != nil || got != tc.want {
			t.Errorf("ConfigPath(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

// nameOf is the Name of the invocation's Inputs. Names stand for inputs here: a changed
// input changes the bytes, and so, but for a 2^-64 chance, the name.
func nameOf(args []string, lookupEnv func(string) (string, bool), full string) (string, error) {
	in, err := Inputs(args, lookupEnv, full)
	return Name(in), err
}
