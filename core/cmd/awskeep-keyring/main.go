// Command awskeep-keyring reads and writes awskeep's items in the OS keyring (the Secret
// Service, pass, the kernel keyring or encrypted files) for awskeep, which runs it for
// awskeep_saml_password_source = keyring:NAME and for `awskeep saml store-password`:
//
//	awskeep-keyring get NAME    print the item, then a newline
//	awskeep-keyring set NAME    store the line read from stdin
//
// It is a program of its own so that the keyring library, which connects to the D-Bus
// session bus as it loads, is never linked into awskeep (see package
// core/secretsource/keyringstore/protocol for the contract). Its settings come from the
// AWSKEEP_KEYRING_* environment variables; run by hand, it reads the file backend's
// password from $AWSKEEP_KEYRING_PASSWORD or asks on the terminal. On failure it prints one
// line on stderr and exits with a status that names the class: 3 not found, 4 wrong
// password, 5 no backend available, 6 not configured, 7 empty, 8 not awskeep's item, 2
// usage, 1 anything else.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/awskeep/awskeep/core/harden"
	"github.com/awskeep/awskeep/core/secretsource/keyringstore"
	"github.com/awskeep/awskeep/core/secretsource/keyringstore/protocol"
	"github.com/awskeep/awskeep/plugins"
)

const usage = `usage: awskeep-keyring get NAME    print item NAME of the OS keyring, then a newline
       awskeep-keyring set NAME    store the line read from stdin as item NAME

awskeep runs this helper; its settings are the AWSKEEP_KEYRING_* environment variables
(AWSKEEP_KEYRING_BACKEND=secret-service,pass,keyctl,file, AWSKEEP_KEYRING_FILE_DIR,
AWSKEEP_KEYRING_SERVICE, ...). The file backend's password comes from
$AWSKEEP_KEYRING_PASSWORD or the terminal.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, keyringstore.Message(err))
		return code
	}
	// Like the awskeep host: the secret and the keyring password stay out of core dumps
	// and out of reach of ptrace by other processes of the user.
	if err := harden.Process(); err != nil {
		return fail(protocol.ExitFailure, err)
	}
	if len(args) == 1 && args[0] == "--version" {
		_, _ = fmt.Fprintln(stdout, plugins.VersionLine("awskeep-keyring"))
		return protocol.ExitOK
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		_, _ = io.WriteString(stdout, usage)
		return protocol.ExitOK
	}
	if len(args) != 2 || (args[0] != protocol.CmdGet && args[0] != protocol.CmdSet) {
		_, _ = io.WriteString(stderr, usage)
		return fail(protocol.ExitUsage, errors.New("want get NAME or set NAME"))
	}
	if v := getenv(protocol.EnvProtocol); v != "" && v != protocol.Version {
		return fail(protocol.ExitUsage, fmt.Errorf("awskeep speaks keyring protocol %q, this awskeep-keyring %s: use the awskeep-keyring that came with awskeep", v, protocol.Version))
	}
	opts := keyringstore.OptionsFromEnv(getenv)
	if v := getenv(protocol.EnvAskFDs); v != "" {
		w, r, err := protocol.OpenAskFDs(v)
		if err != nil {
			return fail(protocol.ExitUsage, err)
		}
		defer w.Close()
		defer r.Close()
		opts.FilePassword = protocol.AskParent(w, r)
	}
	cmd, name := args[0], args[1]
	if cmd == protocol.CmdGet {
		secret, err := keyringstore.Get(ctx, name, opts)
		if err != nil {
			return fail(keyringstore.ExitCode(err), err)
		}
		out := append(make([]byte, 0, len(secret)+1), secret...)
		out = append(out, '\n')
		_, err = stdout.Write(out)
		clear(out)
		if err != nil {
			return fail(protocol.ExitFailure, fmt.Errorf("write the secret: %w", err))
		}
		return protocol.ExitOK
	}
	secret, err := readLine(stdin)
	defer clear(secret)
	if err != nil {
		return fail(keyringstore.ExitCode(err), err)
	}
	if err := keyringstore.Set(ctx, name, string(secret), opts); err != nil {
		return fail(keyringstore.ExitCode(err), err)
	}
	return protocol.ExitOK
}

// readLine reads the secret: stdin's first line, without "\n" or "\r\n", at most
// protocol.MaxSecret bytes. Nothing after it is read.
func readLine(r io.Reader) ([]byte, error) {
	br := bufio.NewReaderSize(r, protocol.MaxSecret+2)
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		clear(line)
		return nil, fmt.Errorf("the secret on stdin is longer than %d KiB", protocol.MaxSecret>>10)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read the secret from stdin: %w", err)
	}
	out := bytes.Clone(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")))
	clear(line)
	if len(out) > protocol.MaxSecret {
		clear(out)
		return nil, fmt.Errorf("the secret on stdin is longer than %d KiB", protocol.MaxSecret>>10)
	}
	return out, nil
}
