// Command jsonreader is the stdlib JSON reader of the credential_process comparisons: it
// reads a credential_process JSON file (the path is its only argument), checks it and prints
// it, as a helper with a file cache does on a hit. The standard library only.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

type credentials struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "jsonreader:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: jsonreader FILE")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var c credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("%s: %w", os.Args[1], err)
	}
	// What a cache reader checks before it answers: the format and time left.
	if c.Version != 1 || c.AccessKeyID == "" || time.Until(c.Expiration) < 15*time.Minute {
		return fmt.Errorf("%s: not a usable credential", os.Args[1])
	}
	out, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}
