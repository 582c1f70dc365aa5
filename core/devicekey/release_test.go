package devicekey

import (
	"context"
	"errors"
	"testing"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/example"
)

// TestReleasingAnswersOnce: the device answers one derivation and is then closed; a
// derivation asked for afterwards (a retry across midnight UTC, the signer having cached
// the first date's key) fails with a plugin error that says to run again, without reaching
// the device. Close waits for the device's close and may be called again.
func TestReleasingAnswersOnce(t *testing.T) {
	ctx := context.Background()
	b := example.New()
	key := plugins.Key{URI: "example:name=k"}
	if err := b.ImportKey(ctx, key, Material("secret"), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	rel := newReleasing(&Device{Backend: b, Key: key})
	d := rel.Deriver()
	first, err := d.DeriveDateKey(ctx, "20261130")
	if err != nil || len(first) != 32 {
		t.Fatalf("first derivation: %x, %v", first, err)
	}
	<-rel.done // closed in the background after the answer
	for _, date := range []string{"20261201", "20261130"} {
		k, err := d.DeriveDateKey(ctx, date)
		if k != nil || !errors.Is(err, errReleased) || creds.ClassOf(err) != creds.ClassPlugin {
			t.Errorf("derivation for %s after the release: %x, %v (class %v)", date, k, err, creds.ClassOf(err))
		}
	}
	rel.Close()
	rel.Close()
}

// TestReleasingClosesUnused: a device that never answered is closed by Close.
func TestReleasingClosesUnused(t *testing.T) {
	rel := newReleasing(&Device{Backend: example.New(), Key: plugins.Key{URI: "example:name=missing"}})
	if _, err := rel.Deriver().DeriveDateKey(context.Background(), "20261130"); err == nil {
		t.Fatal("a missing key answered")
	}
	rel.Close()
	select {
	case <-rel.done:
	default:
		t.Fatal("Close returned before the device was closed")
	}
}
