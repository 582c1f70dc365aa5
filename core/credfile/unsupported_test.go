//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package credfile

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

func TestUpdateUnsupported(t *testing.T) {
	c := creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s", Expiration: time.Now().Add(time.Hour)}
	if err := Update(filepath.Join(t.TempDir(), "credentials"), "dev", c); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Update = %v, want ErrUnsupported", err)
	}
}
