// Command awskeep-yubihsm-sim serves a simulated YubiHSM 2 behind a yubihsm-connector API on
// 127.0.0.1, for tests and demos without hardware.
//
//	awskeep-yubihsm-sim [-port N] [-password-file PATH] [-command-audit 53,4e] [-force-audit]
//
// The first line on stdout is the address it listens on, 127.0.0.1:PORT (-port 0, the
// default, picks a free port). The password of the factory authentication key 1 comes from
// -password-file, else $AWSKEEP_YUBIHSM_SIM_PASSWORD, else "password"; never from the
// command line, where other users could read it. -command-audit turns on the audit log for
// the listed commands (hex command bytes; 53,4e is SIGN_HMAC and GET_OBJECT_INFO, what
// awskeep audit wants) and -force-audit force audit, as yubihsm-shell's put-option would on
// a device. State lives in memory only. SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/sim"
	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
)

// passwordEnv names the environment variable that may hold the password.
const passwordEnv = "AWSKEEP_YUBIHSM_SIM_PASSWORD"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "awskeep-yubihsm-sim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("awskeep-yubihsm-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "TCP port on 127.0.0.1 (0: a free port)")
	passwordFile := fs.String("password-file", "", "file holding the password of authentication key 1 (default: $"+passwordEnv+", else \"password\")")
	commandAudit := fs.String("command-audit", "", "log these commands from the start: hex command bytes separated by commas, e.g. 53,4e (SIGN_HMAC, GET_OBJECT_INFO)")
	forceAudit := fs.Bool("force-audit", false, "turn on force audit: logged commands fail with LOG_FULL until the log is read and released")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version {
		_, err := fmt.Fprintln(stdout, plugins.VersionLine("awskeep-yubihsm-sim"))
		return err
	}
	audited, err := parseCommandList(*commandAudit)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Not echoed: it may be a password typed in the wrong place.
		return fmt.Errorf("%d unexpected arguments (the password goes in -password-file or $%s)", fs.NArg(), passwordEnv)
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("-port %d is not a TCP port", *port)
	}
	password, err := readPassword(*passwordFile, getenv)
	if err != nil {
		return err
	}
	dev, err := sim.New(func(o *sim.Options) {
		o.Password, o.CommandAudit, o.ForceAudit = password, audited, *forceAudit
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: dev, ReadHeaderTimeout: 10 * time.Second}
	if _, err := fmt.Fprintln(stdout, ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stderr, "awskeep-yubihsm-sim: serving a simulated YubiHSM 2 on http://%s (authentication key 1)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// readPassword takes the file's first line, else the environment, else the factory default.
func readPassword(file string, getenv func(string) string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", fmt.Errorf("password file %s is empty", file)
		}
		return line, nil
	}
	if v := getenv(passwordEnv); v != "" {
		return v, nil
	}
	return sim.DefaultPassword, nil
}

// parseCommandList reads -command-audit: command bytes in hex ("53" or "0x53"), separated by
// commas; empty is none.
func parseCommandList(s string) ([]yubihsm.Command, error) {
	if s == "" {
		return nil, nil
	}
	var out []yubihsm.Command
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(f), "0x"), 16, 8)
		if err != nil {
			return nil, fmt.Errorf("-command-audit %q: want hex command bytes separated by commas, e.g. 53,4e", s)
		}
		out = append(out, yubihsm.Command(v))
	}
	return out, nil
}
