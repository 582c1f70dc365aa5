package secretsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
	"github.com/awskeep/awskeep/plugins"
)

// The keyring work happens in awskeep-keyring (package keyringstore/protocol has the
// contract): github.com/99designs/keyring connects to the D-Bus session bus from a package
// init function, and linked here it would do so at the start of every awskeep process,
// the credential_process cache hit included.

// helperWaitDelay bounds the wait for the helper's output pipes after it exits (or is
// killed at the context's end): a process it started (gpg) might hold them open.
const helperWaitDelay = 3 * time.Second

// maxHelperMessage caps the helper's error line as it appears in an error.
const maxHelperMessage = 1024

// runHelper runs awskeep-keyring op name (protocol.CmdGet or CmdSet) for the source src,
// with stdin as its standard input, answers its requests for the file backend's password,
// and returns what it printed (get: the secret, without the line end). Failures are
// *Errors wrapping the sentinel that the helper's exit status names.
func runHelper(ctx context.Context, src, op, name string, stdin []byte, opts Options) ([]byte, error) {
	verb := map[string]string{protocol.CmdGet: "read", protocol.CmdSet: "store"}[op]
	if err := ctx.Err(); err != nil {
		return nil, newError(src, nil, err, "%s item %q", verb, name)
	}
	backends, err := opts.Keyring.backends(opts)
	if err != nil {
		return nil, withSource(err, src)
	}
	if d := opts.Keyring.FileDir; d != "" && !filepath.IsAbs(d) {
		return nil, newError(src, ErrNotConfigured, nil, "KeyringOptions.FileDir is not an absolute path")
	}
	path, err := findHelper(opts.Keyring.Helper)
	if err != nil {
		return nil, withSource(err, src)
	}

	// Two pipes for the file password: requests from the helper (its fd 3), answers to it
	// (its fd 4). The password never enters the helper's arguments or environment.
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, newError(src, nil, err, "start %s", protocol.Program)
	}
	ansR, ansW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, newError(src, nil, err, "start %s", protocol.Program)
	}
	cmd := exec.CommandContext(ctx, path, op, name)
	cmd.Args[0] = protocol.Program
	cmd.Env = helperEnv(opts, backends, os.Environ())
	cmd.ExtraFiles = []*os.File{reqW, ansR}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	stdout := &cappedBuffer{max: protocol.MaxSecret + 1}
	defer stdout.clear()
	stderr := &stderrLines{forward: os.Stderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = helperWaitDelay
	err = cmd.Start()
	reqW.Close()
	ansR.Close()
	if err != nil {
		reqR.Close()
		ansW.Close()
		return nil, newError(src, ErrUnavailable, unwrapPath(err), "start the keyring helper %s", path)
	}

	sctx, cancel := context.WithCancel(ctx)
	pw := &passwordServer{opts: opts}
	served := make(chan struct{})
	go func() {
		defer close(served)
		protocol.ServePasswords(sctx, reqR, ansW, pw.answer)
	}()
	waitErr := cmd.Wait()
	cancel()
	reqR.Close()
	ansW.Close()
	<-served
	stderr.flush()

	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, newError(src, nil, ctx.Err(), "%s item %q", verb, name)
	case pw.err != nil:
		return nil, newError(src, nil, pw.err, "unlock the keyring files in %s", pw.dir)
	case errors.As(waitErr, &exit):
		return nil, helperError(src, op, name, exit, stderr, opts)
	case waitErr != nil && !errors.Is(waitErr, exec.ErrWaitDelay):
		return nil, newError(src, nil, waitErr, "run the keyring helper %s", path)
	case op != protocol.CmdGet:
		return nil, nil
	}
	out, ok := bytes.CutSuffix(stdout.buf, []byte("\n"))
	switch {
	case stdout.over:
		return nil, newError(src, nil, nil, "%s answered more than %d KiB: is it the one that came with awskeep?", protocol.Program, protocol.MaxSecret>>10)
	case !ok:
		return nil, newError(src, nil, nil, "%s answered without a line end: is it the one that came with awskeep?", protocol.Program)
	case len(out) == 0:
		return nil, newError(src, ErrEmpty, nil, "item %q is empty", name)
	}
	return bytes.Clone(out), nil
}

// helperError explains the helper's failure: its exit status is the class (the sentinel),
// its stderr line the message.
func helperError(src, op, name string, exit *exec.ExitError, stderr *stderrLines, opts Options) error {
	code := exit.ExitCode()
	msg := stderr.message()
	if msg == "" {
		status := "exit status " + strconv.Itoa(code)
		if code < 0 {
			status = exit.String() // "signal: killed"
		}
		msg = fmt.Sprintf("%s %s %s failed (%s)", protocol.Program, op, name, status)
		if other := stderr.lastOther(); other != "" {
			msg += ": " + other
		}
	}
	hint := opts.storeHint()
	switch code {
	case protocol.ExitNotFound:
		return newError(src, ErrNotFound, nil, "%s: %s", msg, hint)
	case protocol.ExitUnauthorized:
		return newError(src, ErrUnauthorized, nil, "%s", msg)
	case protocol.ExitUnavailable:
		return newError(src, ErrUnavailable, nil, "%s", msg)
	case protocol.ExitNotConfigured:
		return newError(src, ErrNotConfigured, nil, "%s", msg)
	case protocol.ExitEmpty:
		return newError(src, ErrEmpty, nil, "%s", msg)
	case protocol.ExitForeignItem:
		return newError(src, nil, nil, "%s: %s", msg, strings.Replace(hint, "store it", "store it again", 1))
	case protocol.ExitUsage:
		return newError(src, nil, nil, "%s (is %s the one that came with awskeep?)", msg, protocol.Program)
	}
	return newError(src, nil, nil, "%s", msg)
}

// findHelper returns the helper to run, with symlinks resolved, once it passes
// plugins.OpenTrusted: explicit (KeyringOptions.Helper), else next to the running
// executable, else on $PATH.
func findHelper(explicit string) (string, error) {
	path := explicit
	if path == "" {
		exe, err := os.Executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		if err != nil {
			exe = ""
		}
		if path, err = lookupHelper(exe, exec.LookPath); err != nil {
			return "", err
		}
	}
	f, err := plugins.OpenTrusted(path)
	var unsafe *plugins.UnsafeFileError
	switch {
	case errors.As(err, &unsafe):
		return "", newError("", ErrInsecure, nil, "refusing the keyring helper %s: %s", path, unsafe)
	case errors.Is(err, fs.ErrNotExist):
		return "", newError("", ErrUnavailable, nil, "the keyring helper %s does not exist: it ships with awskeep (make build puts it in bin/)", path)
	case err != nil:
		return "", newError("", ErrUnavailable, unwrapPath(err), "the keyring helper %s", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", newError("", ErrUnavailable, unwrapPath(err), "the keyring helper %s", path)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return "", newError("", ErrUnavailable, nil, "the keyring helper %s is not executable; run chmod u+x %s", f.Name(), f.Name())
	}
	return f.Name(), nil
}

// lookupHelper finds protocol.Program in the directory of exe (the running executable,
// symlinks resolved; "" when unknown), then with lookPath ($PATH, absolute entries only).
// Found next to exe but unsafe is not passed over for $PATH: that is refused later.
func lookupHelper(exe string, lookPath func(string) (string, error)) (string, error) {
	var looked []string
	if exe != "" {
		p := filepath.Join(filepath.Dir(exe), protocol.Program)
		if _, err := os.Lstat(p); err == nil {
			return p, nil
		}
		looked = append(looked, filepath.Dir(exe)+" (next to "+filepath.Base(exe)+")")
	}
	if p, err := lookPath(protocol.Program); err == nil && filepath.IsAbs(p) {
		return p, nil
	}
	looked = append(looked, "$PATH")
	return "", newError("", ErrUnavailable, nil, "%s not found in %s: it ships with awskeep (make build puts it in bin/); install it next to awskeep",
		protocol.Program, strings.Join(looked, " or on "))
}

// helperEnv is the helper's environment: its settings from opts, HOME, XDG_DATA_HOME and
// PASSWORD_STORE_DIR as opts.Getenv gives them (awskeep's own settings read them), and of
// environ (the process environment, which pass, gpg and D-Bus need) only what
// inheritedVar allows: never $AWSKEEP_PIN, AWS_* credentials or the keyring password.
func helperEnv(opts Options, backends []string, environ []string) []string {
	env := make([]string, 0, 32)
	bus := ""
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
		case k == "DBUS_SESSION_BUS_ADDRESS":
			bus = v
		case inheritedVar(k):
			env = append(env, kv)
		}
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	for _, k := range []string{"HOME", "XDG_DATA_HOME", "PASSWORD_STORE_DIR"} {
		add(k, opts.getenv(k))
	}
	k := opts.Keyring
	add(protocol.EnvProtocol, protocol.Version)
	add(protocol.EnvBackend, strings.Join(backends, ","))
	add(protocol.EnvService, k.ServiceName)
	add(protocol.EnvFileDir, k.FileDir)
	add(protocol.EnvPassDir, k.PassDir)
	add(protocol.EnvPassCmd, k.PassCmd)
	add(protocol.EnvPassPrefix, k.PassPrefix)
	add(protocol.EnvKeyctlScope, k.KeyctlScope)
	add(protocol.EnvCollection, k.SecretServiceCollection)
	add(protocol.EnvAskFDs, protocol.AskFDs)
	// The keyring library probes KWallet at start too; awskeep never uses it.
	add("DISABLE_KWALLET", "1")
	add("DBUS_SESSION_BUS_ADDRESS", sessionBus(bus, environ))
	return env
}

// inheritedVar reports whether the helper gets variable k of the process environment.
func inheritedVar(k string) bool {
	switch k {
	case "PATH", "USER", "LOGNAME", "TMPDIR", "GNUPGHOME", "LANG", "LANGUAGE",
		// gpg's pinentry needs the terminal or the display it is to ask on.
		"GPG_TTY", "TERM", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY":
		return true
	case "XDG_DATA_HOME", "PASSWORD_STORE_DIR":
		return false // from Options.Getenv
	}
	return strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "LC_") || strings.HasPrefix(k, "PASSWORD_STORE_")
}

// sessionBus is the helper's $DBUS_SESSION_BUS_ADDRESS: awskeep's, else the per-user bus
// socket if there is one, else an address that names no transport. Left unset, the keyring
// library would run dbus-launch and leave a dbus-daemon behind on a headless machine.
func sessionBus(addr string, environ []string) string {
	if addr != "" && addr != "autolaunch:" {
		return addr
	}
	var dirs []string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "XDG_RUNTIME_DIR="); ok && filepath.IsAbs(v) {
			dirs = append(dirs, v)
		}
	}
	dirs = append(dirs, "/run/user/"+strconv.Itoa(os.Getuid()))
	for _, d := range dirs {
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == fs.ModeSocket {
			return "unix:path=" + p
		}
	}
	return "disabled:"
}

// passwordServer answers the helper's requests for the file backend's password, and keeps
// the first failure: the error it returns says why better than the helper could.
type passwordServer struct {
	opts Options
	err  error
	dir  string
}

func (s *passwordServer) answer(ctx context.Context, req protocol.PasswordRequest) (string, error) {
	v, err := call(ctx, func() (string, error) { return filePassword(ctx, s.opts, req) })
	if err != nil && s.err == nil {
		s.err, s.dir = err, req.Dir
	}
	return v, err
}

// filePassword is the file backend's password: KeyringOptions.FilePassword,
// $AWSKEEP_KEYRING_PASSWORD, then the Prompter (twice when req.Confirm).
func filePassword(ctx context.Context, opts Options, req protocol.PasswordRequest) (string, error) {
	if f := opts.Keyring.FilePassword; f != nil {
		v, err := f(ctx)
		if err != nil {
			return "", err
		}
		if v == "" {
			return "", newError("", ErrEmpty, nil, "KeyringOptions.FilePassword returned an empty password")
		}
		return v, nil
	}
	if v := opts.getenv(EnvKeyringPassword); v != "" {
		return v, nil
	}
	v, err := protocol.AskFilePassword(ctx, opts.prompter(), req)
	if errors.Is(err, protocol.ErrNoPassword) {
		return "", newError("", ErrEmpty, nil, "%s", err)
	}
	return v, err
}

// call runs f until it returns or ctx ends; then the call is abandoned (a Prompter or a
// FilePassword function that ignores ctx ends on its own).
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// cappedBuffer keeps what is written up to max bytes and notes that more came. Grown by
// hand, so no copy of the secret is left behind in a discarded array.
type cappedBuffer struct {
	buf  []byte
	max  int
	over bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.over || len(b.buf)+len(p) > b.max {
		b.over = true
		return len(p), nil
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		grown := make([]byte, len(b.buf), min(b.max, 2*cap(b.buf)+len(p)))
		copy(grown, b.buf)
		clear(b.buf)
		b.buf = grown
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *cappedBuffer) clear() { clear(b.buf) }

// stderrLines sorts the helper's stderr: its own error line (protocol.MessagePrefix) is
// kept for the error; other lines come from pass or gpg and go on to forward, as they
// would have had awskeep run them itself.
type stderrLines struct {
	forward io.Writer
	mu      sync.Mutex
	partial []byte
	msg     string // the helper's last error line, prefix removed
	other   string // the last other line
}

func (s *stderrLines) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			if len(s.partial) > 64<<10 {
				s.line(s.partial)
				s.partial = s.partial[:0]
			}
			return len(p), nil
		}
		s.line(s.partial[:i])
		s.partial = s.partial[i+1:]
	}
}

// flush takes a last line without a line end.
func (s *stderrLines) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.partial) > 0 {
		s.line(s.partial)
		s.partial = nil
	}
}

func (s *stderrLines) line(l []byte) {
	if m, ok := bytes.CutPrefix(l, []byte(protocol.MessagePrefix)); ok {
		s.msg = oneLine(m)
		return
	}
	if len(bytes.TrimSpace(l)) > 0 {
		s.other = oneLine(l)
	}
	if s.forward != nil {
		_, _ = s.forward.Write(append(bytes.Clone(l), '\n'))
	}
}

func (s *stderrLines) message() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msg
}

func (s *stderrLines) lastOther() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.other
}

// oneLine makes b fit in an error: control characters become spaces, invalid UTF-8 is
// replaced, and it is capped at maxHelperMessage bytes.
func oneLine(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD"))
	s = strings.TrimSpace(s)
	if len(s) > maxHelperMessage {
		cut := maxHelperMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
