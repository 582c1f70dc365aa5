// Command awskeep-full is awskeep's full program: awskeep keeps AWS secret access keys in
// hardware (PKCS#11 tokens, YubiHSM 2, TPM 2.0) and hands short-lived credentials to the
// AWS CLI and SDKs through credential_process. Run awskeep help for its commands;
// DESIGN.md has the contract.
//
// Users run awskeep, the small front in cmd/awskeep, installed next to this program: it
// answers cached credential_process calls itself and runs this program (execve, argv[0]
// "awskeep") for everything else. Run directly, under any name, this program does all of
// awskeep's work itself, only its cache hits cost more.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/fastpath"
	"github.com/awskeep/awskeep/core/harden"
)

func main() {
	// Before anything holds a secret: no core dumps, no reading this process's memory.
	if err := harden.Process(); err != nil {
		fmt.Fprintln(os.Stderr, "awskeep: "+err.Error())
		os.Exit(exitFailure)
	}
	e := newEnv()
	e.routeLock = inheritedRouteLock()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(code)
}

// inheritedRouteLock takes the lock the front handed over with its fingerprint's turn
// (package core/fastpath), which credential-process releases once it has answered, and
// keeps the variable that named it from every child.
func inheritedRouteLock() *os.File {
	value := os.Getenv(fastpath.EnvRouteLock)
	if value == "" {
		return nil
	}
	os.Unsetenv(fastpath.EnvRouteLock)
	dir, err := cache.DefaultDir()
	if err != nil {
		return nil
	}
	return fastpath.Inherited(value, dir)
}
