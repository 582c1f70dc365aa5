package pluginhost_test

import (
	"context"
	"errors"
	"testing"

	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/plugins"
)

// crashyLister lists one key, named by appending name=listed to the URI it was asked about.
type crashyLister struct{ crashy }

func (crashyLister) ListKeys(_ context.Context, key plugins.Key) ([]plugins.KeyEntry, error) {
	return []plugins.KeyEntry{{URI: key.URI + "name=listed", Label: "listed"}}, nil
}

func TestPoolRoutesTheOptionalOperations(t *testing.T) {
	t.Setenv("AWSKEEP_PLUGIN_ENV", "AWSKEEP_TEST_PLUGIN")
	dir := installCrashy(t)
	ctx := context.Background()
	device := plugins.Key{URI: "crashy:"} // a device URI, without the object part
	t.Run("plugin with ListKeys", func(t *testing.T) {
		t.Setenv("AWSKEEP_TEST_PLUGIN", "lister")
		pool := pluginhost.NewPool(nil, opts(dir))
		defer pool.Close()
		got, err := pool.ListKeys(ctx, device)
		if err != nil || len(got) != 1 || got[0].URI != "crashy:name=listed" {
			t.Fatalf("ListKeys = %+v, %v", got, err)
		}
		if _, err := pool.AuditLog(ctx, device, plugins.AuditLogRequest{}); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("AuditLog of a plugin without it: %v, want ErrUnsupported", err)
		}
	})
	t.Run("plugin without", func(t *testing.T) {
		t.Setenv("AWSKEEP_TEST_PLUGIN", "crashy")
		pool := pluginhost.NewPool(nil, opts(dir))
		defer pool.Close()
		if _, err := pool.ListKeys(ctx, device); !errors.Is(err, plugins.ErrUnsupported) {
			t.Fatalf("ListKeys: %v, want ErrUnsupported", err)
		}
	})
	t.Run("bad URI", func(t *testing.T) {
		pool := pluginhost.NewPool(nil, opts(dir))
		defer pool.Close()
		if _, err := pool.ListKeys(ctx, plugins.Key{URI: "tpm:dir=/a;handle=0x81000001"}); !errors.Is(err, plugins.ErrInvalidKeyURI) {
			t.Fatalf("ListKeys: %v, want ErrInvalidKeyURI", err)
		}
	})
}
