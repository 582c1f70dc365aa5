// Command awskeep keeps AWS secret access keys in hardware and hands short-lived
// credentials to the AWS CLI and SDKs. See the README for its commands.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "awskeep: not implemented yet")
	os.Exit(1)
}
