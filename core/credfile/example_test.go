//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/core/creds"
)

// Update replaces the four keys of [dev] where they are; the user's comment, the region
// and the other profile stay as they were.
func ExampleUpdate() {
	dir, _ := os.MkdirTemp("", "credfile-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials")
	os.WriteFile(path, []byte("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = longterm\n\n"+
		"[dev]\n# written by awskeep update\naws_access_key_id = ASIAOLD\nregion = eu-west-1\n"), 0o600)

	now := time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)
	c := creds.Credentials{AccessKeyID: "ASIANEW", SecretAccessKey: "wJalr...", SessionToken: "IQoJ...",
		Expiration: now.Add(time.Hour)}
	if err := credfile.Update(path, "dev", c, func(o *credfile.Options) { o.Now = func() time.Time { return now } }); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	// Output:
	// [default]
	// aws_access_key_id = AKIAEXAMPLE
	// aws_secret_access_key = longterm
	//
	// [dev]
	// # written by awskeep update
	// aws_access_key_id = ASIANEW
	// region = eu-west-1
	// aws_secret_access_key = wJalr...
	// aws_session_token = IQoJ...
	// x_security_token_expires = 2026-11-30T12:00:00Z
}
