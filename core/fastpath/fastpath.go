// Package fastpath is what awskeep's front program and its full program agree on to answer
// a cached `awskeep credential-process --profile P` without the full program.
//
// A cache hit of the full program costs its start: the AWS SDK, gRPC, go-plugin, the SAML
// and Kerberos libraries initialise before main runs, although a hit needs none of them.
// So `awskeep` is a small front: on Linux a static C program (cmd/cfront), elsewhere a Go
// program that links the standard library, package cache and this package (cmd/awskeep).
// For a credential-process invocation it serializes the Inputs the full program's
// settings come from, looks for the answer file the full program left under their Name
// (cache.PutAnswer), and prints the answer if the file holds the digest of these inputs
// and the cache entry it was rendered from is still in place and fresh (cache.ReadAnswer).
// Anything else (another command, a miss, no answer, a log level asking for details) runs
// the full program, awskeep-full, in its place (execve), with the same arguments and
// environment.
//
// What keeps an answer correct is that the inputs cover everything the full program's
// settings come from:
//
//   - the arguments;
//   - the environment variables in EnvNames, set or unset (a test of the full program
//     checks that its settings read no other variable);
//   - the path and the bytes of the AWS config file;
//   - the user id, and the full program's file identity (device, inode, size, time), so
//     that an upgrade orphans every answer.
//
// awskeep's own secrets are not inputs: the PIN, IdP passwords and AWS credentials are read
// only after settings are resolved and never affect the cache key. The config file's bytes
// are, and may hold other tools' secrets (the AWS CLI reads keys from it too), so inputs are
// kept in memory only: answer files store their digest.
package fastpath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FullProgram is the file name of the full program, installed next to the front.
const FullProgram = "awskeep-full"

// EnvNames are the environment variables the full program's settings for a credential
// process are resolved from: the config file's location, the profile, the STS region and
// endpoint, and the cache directory.
var EnvNames = []string{
	"AWS_CA_BUNDLE",
	"AWS_CONFIG_FILE",
	"AWS_DEFAULT_PROFILE",
	"AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_STS",
	"AWS_PROFILE",
	"AWS_REGION",
	"HOME",
	"XDG_CACHE_HOME",
}

// domain separates this hash from any other and versions the encoding.
const domain = "awskeep route v1\x00"

// maxConfigSize bounds the config file read: a larger one is not an input and the
// invocation takes the full path.
const maxConfigSize = 1 << 20

// Routable reports whether args (without the program name) are an invocation whose
// answer may come from a route: exactly `credential-process --profile NAME` or
// `credential-process --profile=NAME`. Other flags (--no-cache, --mfa-code, overrides)
// always take the full program.
func Routable(args []string) bool {
	if len(args) < 2 || args[0] != "credential-process" {
		return false
	}
	switch {
	case len(args) == 3 && args[1] == "--profile":
		return args[2] != "" && !strings.HasPrefix(args[2], "-")
	case len(args) == 2:
		name, ok := strings.CutPrefix(args[1], "--profile=")
		return ok && name != ""
	}
	return false
}

// Inputs serializes the inputs of an invocation (see the package comment): args without
// the program name, the variables in EnvNames as lookupEnv finds them, the config file,
// the user id and the file identity of full, the full program's path. The encoding is a
// domain string, then each field as its length (8 bytes, big-endian) and its bytes; the C
// front (cmd/cfront) writes the same bytes, which a cgo test compares. Inputs may hold
// secrets of the config file: never write them anywhere. It fails when the config file or
// the full program cannot be examined; the caller then takes the full path.
func Inputs(args []string, lookupEnv func(string) (string, bool), full string) ([]byte, error) {
	b := []byte(domain)
	field := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	field(strconv.Itoa(len(args)))
	for _, a := range args {
		field(a)
	}
	for _, name := range EnvNames {
		v, ok := lookupEnv(name)
		if ok {
			field(name + "=" + v)
		} else {
			field(name)
		}
	}
	getenv := func(name string) string { v, _ := lookupEnv(name); return v }
	path, err := ConfigPath(getenv)
	if err != nil {
		return nil, err
	}
	data, err := readSmall(path, maxConfigSize)
	if err != nil {
		return nil, err
	}
	field(path)
	field(string(data))
	field(strconv.Itoa(os.Getuid()))
	id, err := fileIdentity(full)
	if err != nil {
		return nil, err
	}
	field(id)
	return b, nil
}

// Name names the answer file and the turn lock of inputs: 16 lower-case hex digits of
// their 64-bit FNV-1a hash. It is a file name, not the check: an answer is used only if
// the 128-bit digest stored in it is the invocation's (cache.ReadAnswer), so two inputs
// with one name share a file, not an answer. FNV-1a because the C front computes it too,
// without a cryptographic library.
func Name(inputs []byte) string {
	h := fnv.New64a()
	h.Write(inputs)
	return fmt.Sprintf("%016x", h.Sum64())
}

// IsName reports whether s has the form of a Name.
func IsName(s string) bool {
	return len(s) == 16 && strings.Trim(s, "0123456789abcdef") == ""
}

// ConfigPath is the AWS config file as the AWS SDKs, and so package profile, find it:
// $AWS_CONFIG_FILE, with a leading "~" expanded from $HOME, else $HOME/.aws/config.
func ConfigPath(getenv func(string) string) (string, error) {
	home := getenv("HOME")
	if p := getenv("AWS_CONFIG_FILE"); p != "" {
		if p != "~" && !strings.HasPrefix(p, "~/") {
			return p, nil
		}
		if home == "" {
			return "", errors.New("AWS_CONFIG_FILE starts with ~ but HOME is not set")
		}
		return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
	}
	if home == "" {
		return "", errors.New("neither AWS_CONFIG_FILE nor HOME is set, so there is no config file to read")
	}
	return filepath.Join(home, ".aws", "config"), nil
}

// readSmall reads a regular file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > max {
		return nil, fmt.Errorf("fastpath: %s is not a regular file of at most %d bytes", path, max)
	}
	buf := make([]byte, fi.Size()+1)
	n, err := f.Read(buf)
	if err != nil && n == 0 && fi.Size() > 0 {
		return nil, err
	}
	if int64(n) != fi.Size() {
		return nil, fmt.Errorf("fastpath: %s changed while being read", path)
	}
	return buf[:n], nil
}
