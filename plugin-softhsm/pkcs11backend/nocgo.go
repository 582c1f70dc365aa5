//go:build !cgo

package pkcs11backend

import (
	"context"
	"fmt"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// errNoCgo is what every device operation returns in a build without cgo: loading a
// PKCS#11 module needs dlopen.
var errNoCgo = fmt.Errorf("pkcs11: this awskeep-plugin-pkcs11 was built without cgo and cannot load PKCS#11 modules; rebuild it with CGO_ENABLED=1: %w",
	plugins.ErrUnsupported)

func (b *Backend) hmac(context.Context, *selector, string, []byte) ([]byte, error) {
	return nil, errNoCgo
}

func (b *Backend) importKey(context.Context, *selector, string, []byte, plugins.ImportOptions) error {
	return errNoCgo
}

func (b *Backend) describeKey(context.Context, *selector, string) (plugins.KeyDescription, error) {
	return plugins.KeyDescription{}, errNoCgo
}

func (b *Backend) deleteKey(context.Context, *selector, string) error { return errNoCgo }

func (b *Backend) listKeys(context.Context, *selector, *keyuri.URI, string) ([]plugins.KeyEntry, error) {
	return nil, errNoCgo
}
