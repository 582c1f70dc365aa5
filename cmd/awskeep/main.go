// Command awskeep is the front of awskeep: the program users and their ~/.aws/config run.
// It answers a cached `awskeep credential-process --profile P` itself and runs the full
// program, awskeep-full (installed next to it), in its place for everything else.
//
// A cache hit is the common case of credential_process: the AWS CLI and SDKs run it for
// every command. The full program links the AWS SDK, gRPC, go-plugin and the SAML and
// Kerberos libraries, whose initialisation costs more than the hit itself; this program
// links the standard library and awskeep's cache reader only. How the two agree on the
// answer an invocation may get is in package core/fastpath; the answer file the full
// program left is read and checked by package core/cache (ReadAnswer). A front that finds
// nothing to answer changes nothing: the full program sees the same arguments,
// environment, terminal and descriptors, under the same process id (execve).
//
// On Linux the front users run is cmd/cfront, a static C program that does the same
// (its start costs a fraction of any Go program's); this one is the front elsewhere, and
// the reference the C front is tested against.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/fastpath"
	"github.com/awskeep/awskeep/core/harden"
	"github.com/awskeep/awskeep/plugins/trust"
)

func main() {
	// As the full program does first: the cached credentials this process may read must
	// not end up in a core file or be read from its memory.
	if err := harden.Process(); err != nil {
		fail(err.Error())
	}
	// Run by a plugin (its AWS profile's credential_process is awskeep): refuse before the
	// cache and its locks, which the awskeep above may hold while it waits for that plugin.
	// The host sets the variable in every plugin's environment (plugins.DepthEnvVar; the
	// front keeps to the standard library, so it is spelled out here).
	if d := os.Getenv("AWSKEEP_PLUGIN_DEPTH"); d != "" && d != "0" {
		fail("awskeep may not run under an awskeep plugin ($AWSKEEP_PLUGIN_DEPTH is set): the credential_process of the plugin's AWS profile " +
			"runs awskeep, which would start the plugin again; give the plugin AWS credentials of its own (profile= in its key URI " +
			"naming a profile without awskeep, or an instance role)")
	}
	args := os.Args[1:]
	full, err := openFull()
	if err != nil {
		fail(err.Error())
	}
	env := os.Environ()
	// AWSKEEP_LOG_LEVEL asks for the full program's account of what it does.
	if fastpath.Routable(args) && os.Getenv("AWSKEEP_LOG_LEVEL") == "" {
		env = answer(args, full.Name(), env)
	}
	err = execFull(full, args, env)
	fail(fmt.Sprintf("run %s: %v; reinstall awskeep", full.Name(), err))
}

// answer prints the cached answer for args and exits, if there is one. Otherwise it takes
// its turn among the fronts of the same invocation (fastpath.Turn): the first runs the
// full program with the turn's lock, returned in env, and the others wait for that
// program and answer from the cache it fills. Whatever goes wrong here leaves the answer
// to the full program.
func answer(args []string, full string, env []string) []string {
	dir, err := cache.DirFrom(os.Getenv)
	if err != nil {
		return env
	}
	c, err := cache.Open(func(o *cache.Options) { o.Dir = dir })
	if err != nil {
		return env
	}
	inputs, err := fastpath.Inputs(args, os.LookupEnv, full)
	if err != nil {
		return env
	}
	name := fastpath.Name(inputs)
	if out, ok := c.ReadAnswer(name, inputs); ok {
		exitWith(out)
	}
	lock, leader, err := fastpath.Turn(c.Dir(), name)
	switch {
	case err != nil:
		return env
	case leader:
		kv, err := fastpath.Handoff(lock, name)
		if err != nil {
			return env
		}
		return append(env, kv)
	}
	if out, ok := c.ReadAnswer(name, inputs); ok {
		exitWith(out)
	}
	return env
}

// exitWith writes the answer and exits.
func exitWith(out []byte) {
	if _, err := os.Stdout.Write(out); err != nil {
		fail("write credentials: " + err.Error())
	}
	os.Exit(0)
}

// fail prints one line and exits 1, as the full program does for a failure.
func fail(msg string) {
	fmt.Fprintln(os.Stderr, "awskeep: "+msg)
	os.Exit(1)
}

// openFull opens the full program next to this one (symlinks resolved), refusing it, as
// plugins are refused, if anyone but root and the user could have written it or a
// directory on the way to it.
func openFull() (*os.File, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return nil, fmt.Errorf("find this program's directory: %w", err)
	}
	path := filepath.Join(filepath.Dir(exe), fastpath.FullProgram)
	f, err := trust.Open(path)
	if err != nil {
		return nil, fmt.Errorf("refusing %s (awskeep's full program): %w", path, err)
	}
	return f, nil
}

// execFull replaces this process with the full program, executing the file checked by
// openFull through /proc/self/fd so that a file swapped in meanwhile cannot run; where
// there is no /proc, by its name.
func execFull(f *os.File, args, env []string) error {
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if _, err := os.Stat(path); err != nil {
		path = f.Name()
	}
	return syscall.Exec(path, append([]string{"awskeep"}, args...), env)
}
