// Package faultmodule builds a deliberately faulty PKCS#11 module for tests of the PKCS#11
// plugin and of hosts that drive it: a small C shim (csrc/faultpkcs11.c) that wraps a real
// module (SoftHSM2 by default), forwards every call through a copy of its function list
// (PKCS#11 v2.40 section 5.2 C_GetFunctionList), and on request crashes with SIGSEGV,
// aborts, hangs or writes to stdout inside C_Sign, or holds C_CreateObject, C_DestroyObject
// or C_SetAttributeValue (the steps of an import that replaces a key) until told to go on.
// It also logs C_Initialize, C_Login, C_SignInit, C_Sign and those three calls, so a test
// can prove a wrong PIN reached the token once, or wait until a call is under way.
//
// A test builds the shim (Build), makes a Control, puts Control.Environ() into the plugin's
// environment, and names the shim in the key URI's module-path. The fault is read from the
// control file on every call, so Control.Set switches it between requests to one running
// plugin:
//
//	so := faultmodule.Build(t)
//	ctl := faultmodule.NewControl(t)
//	p, _ := plugins.Launch(ctx, bin, func(o *plugins.LaunchOptions) { o.Env = append(hsm.Environ(), ctl.Environ()...) })
//	uri := "pkcs11:token=aws;object=k?module-path=" + so
//	... import, HMAC ...
//	ctl.Set(faultmodule.SegV) // the next HMAC kills the plugin with SIGSEGV
//
// The C source is compiled with gcc (Debian packages gcc and libc6-dev), never by cgo: it
// sits in a directory without Go files, and is embedded here so Build works from any
// working directory and with GOWORK=off.
package faultmodule

import (
	_ "embed"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

//go:embed csrc/faultpkcs11.c
var source []byte

// Environment variables the shim reads.
const (
	// ControlEnv names the file holding the current fault, one word; read on every call.
	ControlEnv = "AWSKEEP_FAULT_CONTROL"
	// LogEnv names the file the shim appends one line per wrapped call to.
	LogEnv = "AWSKEEP_FAULT_LOG"
	// TargetEnv names the real module to wrap; default /usr/lib/softhsm/libsofthsm2.so.
	TargetEnv = "AWSKEEP_FAULT_TARGET"
)

// InstallHint is the command that installs the C compiler Build needs.
const InstallHint = "apt-get install gcc libc6-dev"

// Build compiles the shim with gcc into tb.TempDir() and returns the shared object's path,
// for a key URI's module-path. A missing gcc fails tb with the command that installs it.
func Build(tb testing.TB) string {
	tb.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		tb.Fatalf("faultmodule: gcc not found, needed to build the fault PKCS#11 module; %s", InstallHint)
	}
	dir := tb.TempDir()
	src := filepath.Join(dir, "faultpkcs11.c")
	if err := os.WriteFile(src, source, 0o600); err != nil {
		tb.Fatalf("faultmodule: %v", err)
	}
	so := filepath.Join(dir, "faultpkcs11.so")
	// -fvisibility=hidden: only C_GetFunctionList is exported, as the source marks it.
	cmd := exec.Command(gcc, "-shared", "-fPIC", "-fvisibility=hidden", "-O2", "-Wall", "-Wextra", "-Werror",
		"-o", so, src, "-pthread", "-ldl")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("faultmodule: gcc: %v\n%s\n(missing headers? %s)", err, out, InstallHint)
	}
	return so
}

// Fault is what the shim does inside C_Sign, the call behind every HMAC (and behind the
// check of a newly imported key), or, for the Hold faults, inside one other call.
type Fault string

// The faults the shim knows.
const (
	// None forwards every call.
	None Fault = "none"
	// SegV stores through a null pointer: the plugin dies with SIGSEGV in C code.
	SegV Fault = "segv"
	// Abort calls abort(3): the plugin dies with SIGABRT.
	Abort Fault = "abort"
	// Hang never returns from C_Sign.
	Hang Fault = "hang"
	// Stdout writes "FAULTY MODULE SAYS HELLO\n" to file descriptor 1 with write(2) in
	// C_Initialize and C_Sign, then forwards the call.
	Stdout Fault = "stdout"
	// Flood writes 1 MiB without a newline to file descriptor 1 in C_Sign, then forwards
	// the call: more than go-plugin's host reads as one stdout line (64 KiB,
	// bufio.MaxScanTokenSize), after which the host stops draining the pipe.
	Flood Fault = "flood"

	// HoldCreate holds C_CreateObject before it reaches the token for as long as the
	// control file names it; Set to another fault lets the call go on.
	HoldCreate Fault = "hang-create"
	// HoldDestroy holds C_DestroyObject likewise: an import that replaces a key stops
	// where it deletes the old one.
	HoldDestroy Fault = "hang-destroy"
	// HoldSetAttribute holds C_SetAttributeValue likewise: the renames of a replacement.
	HoldSetAttribute Fault = "hang-setattr"
)

func (f Fault) valid() bool {
	switch f {
	case None, SegV, Abort, Hang, Stdout, Flood, HoldCreate, HoldDestroy, HoldSetAttribute:
		return true
	}
	return false
}

// Control is the control file and call log of one or more plugin processes.
type Control struct {
	// ControlFile holds the current fault (ControlEnv).
	ControlFile string
	// LogFile receives one line per wrapped call, e.g. "C_Login user=1" (LogEnv).
	LogFile string
	// Target, if set, is the module to wrap instead of SoftHSM2 (TargetEnv).
	Target string

	tb testing.TB
}

// NewControl makes a control file set to None and an empty log in tb.TempDir().
func NewControl(tb testing.TB) *Control {
	tb.Helper()
	dir := tb.TempDir()
	c := &Control{ControlFile: filepath.Join(dir, "fault"), LogFile: filepath.Join(dir, "calls.log"), tb: tb}
	c.Set(None)
	return c
}

// Set switches the fault; the shim sees it at its next wrapped call. The file is replaced
// by rename, so a call in another process never reads it half written.
func (c *Control) Set(f Fault) {
	c.tb.Helper()
	if !f.valid() {
		c.tb.Fatalf("faultmodule: unknown fault %q", f)
	}
	tmp := c.ControlFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(string(f)+"\n"), 0o600); err != nil {
		c.tb.Fatalf("faultmodule: %v", err)
	}
	if err := os.Rename(tmp, c.ControlFile); err != nil {
		c.tb.Fatalf("faultmodule: %v", err)
	}
}

// pluginEnvVar is the awskeep host's variable listing further variables its plugins may
// see (plugins.PluginEnvVar): a host passes a plugin only an allow-list of its environment.
const pluginEnvVar = "AWSKEEP_PLUGIN_ENV"

// Environ returns the environment entries that point the shim at this Control: add them to
// the plugin's environment (plugins.LaunchOptions.Env), or to the environment of an awskeep
// host, which passes them on to its plugins because Environ also lists them in
// $AWSKEEP_PLUGIN_ENV.
func (c *Control) Environ() []string {
	env := []string{ControlEnv + "=" + c.ControlFile, LogEnv + "=" + c.LogFile}
	names := ControlEnv + "," + LogEnv
	if c.Target != "" {
		env = append(env, TargetEnv+"="+c.Target)
		names += "," + TargetEnv
	}
	return append(env, pluginEnvVar+"="+names)
}

// Calls returns the log's lines so far, e.g. "C_Initialize", "C_Login user=1", "C_Sign",
// "C_DestroyObject", and "stdout C_Sign 25" for each write of the Stdout fault (write(2)'s result: -1 would
// mean file descriptor 1 was closed).
func (c *Control) Calls() []string {
	c.tb.Helper()
	data, err := os.ReadFile(c.LogFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.tb.Fatalf("faultmodule: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// Count returns how many log lines start with the word fn: a function name ("C_Sign"), or
// "stdout" for the Stdout fault's writes.
func (c *Control) Count(fn string) int {
	c.tb.Helper()
	n := 0
	for _, line := range c.Calls() {
		if name, _, _ := strings.Cut(line, " "); name == fn {
			n++
		}
	}
	return n
}

// WaitCalls waits until the log holds more than n lines for fn (see Count), checking every
// 10 ms for up to timeout, and reports whether it does: a test takes n before the request
// and then knows when the request is inside fn.
func (c *Control) WaitCalls(fn string, n int, timeout time.Duration) bool {
	c.tb.Helper()
	for end := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if c.Count(fn) > n {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// LoginCount returns how many times C_Login reached the shim: each is a PIN the token checked.
func (c *Control) LoginCount() int {
	c.tb.Helper()
	return c.Count("C_Login")
}
