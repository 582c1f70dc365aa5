// Command hello is the Go hello world of the credential_process comparisons: it prints the
// shell stub's static credential JSON and exits, so it costs what starting any Go program
// costs (runtime, no package beyond os).
package main

import "os"

const static = `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"x","SessionToken":"y","Expiration":"2099-01-01T00:00:00Z"}` + "\n"

func main() {
	if _, err := os.Stdout.WriteString(static); err != nil {
		os.Exit(1)
	}
}
