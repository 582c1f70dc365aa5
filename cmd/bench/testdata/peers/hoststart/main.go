// Command hoststart is the start of any credential helper built as awskeep is: a Go program
// that links the plugin SDK (go-plugin, gRPC, protobuf: what a host needs to talk to a
// plugin) and aws-sdk-go-v2's STS client, initialises them, prints the shell stub's static
// JSON and exits. It does no work; what it costs is a floor under awskeep's cold path,
// whose host and plugin each start such a program.
package main

import (
	"os"

	_ "github.com/aws/aws-sdk-go-v2/service/sts"

	_ "github.com/awskeep/awskeep/plugins"
)

const static = `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"x","SessionToken":"y","Expiration":"2099-01-01T00:00:00Z"}` + "\n"

func main() {
	if _, err := os.Stdout.WriteString(static); err != nil {
		os.Exit(1)
	}
}
