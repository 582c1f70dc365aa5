// Command awskeep keeps AWS secret access keys in hardware (PKCS#11 tokens, YubiHSM 2,
// TPM 2.0) and hands short-lived credentials to the AWS CLI and SDKs through
// credential_process. Run awskeep help for its commands; DESIGN.md has the contract.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/awskeep/awskeep/core/harden"
)

func main() {
	// Before anything holds a secret: no core dumps, no reading this process's memory.
	if err := harden.Process(); err != nil {
		fmt.Fprintln(os.Stderr, "awskeep: "+err.Error())
		os.Exit(exitFailure)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newEnv())
	stop()
	os.Exit(code)
}
