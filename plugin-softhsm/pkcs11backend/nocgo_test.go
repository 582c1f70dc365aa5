//go:build !cgo

package pkcs11backend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

// TestNoCgo: without cgo, Info still works and every device operation says how to fix the
// build, after the URI has been checked.
func TestNoCgo(t *testing.T) {
	b := New()
	ctx := context.Background()
	if info, err := b.Info(ctx); err != nil || info.Name != Name {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	k := plugins.Key{URI: "pkcs11:token=aws;object=prod", PIN: "1234"}
	_, errH := b.HMAC(ctx, k, nil)
	errI := b.ImportKey(ctx, k, []byte("AWS4x"), plugins.ImportOptions{})
	_, errD := b.DescribeKey(ctx, k)
	errX := b.DeleteKey(ctx, k)
	for _, err := range []error{errH, errI, errD, errX} {
		if !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
			t.Errorf("got %v, want ErrUnsupported naming CGO_ENABLED=1", err)
		}
	}
	if _, err := b.HMAC(ctx, plugins.Key{URI: "pkcs11:token=aws"}, nil); !errors.Is(err, plugins.ErrInvalidKeyURI) {
		t.Errorf("a bad URI: %v, want ErrInvalidKeyURI", err)
	}
}
