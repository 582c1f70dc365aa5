package example_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/awskeep/awskeep/plugins/example"
)

var keySeq atomic.Int64

func newKey(*testing.T) plugins.Key {
	return plugins.Key{URI: fmt.Sprintf("example:name=key-%d", keySeq.Add(1)), PIN: "1234"}
}

func wrongPIN(k plugins.Key) plugins.Key {
	k.PIN = "0000"
	return k
}

func TestConformanceInProcess(t *testing.T) {
	conformance.Run(t, conformance.Config{Backend: example.New(), NewKey: newKey, WrongPIN: wrongPIN})
}

func TestConformanceOverGRPC(t *testing.T) {
	bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
	conformance.Run(t, conformance.Config{Backend: conformance.LaunchPlugin(t, bin), NewKey: newKey, WrongPIN: wrongPIN})
}

// mismapped is a backend that reports a missing key as a generic error: exactly the mistake
// the kit exists to catch.
type mismapped struct{ *example.Backend }

func (m mismapped) HMAC(ctx context.Context, k plugins.Key, msg []byte) ([]byte, error) {
	mac, err := m.Backend.HMAC(ctx, k, msg)
	if errors.Is(err, plugins.ErrKeyNotFound) {
		return nil, errors.New("CKR_OBJECT_HANDLE_INVALID")
	}
	return mac, err
}

// TestKitRejectsMisMappedErrors runs the kit against mismapped in a child test process and
// expects it to fail, naming the sentinel that should have been used.
func TestKitRejectsMisMappedErrors(t *testing.T) {
	if os.Getenv("AWSKEEP_KIT_CHILD") == "1" {
		conformance.Run(t, conformance.Config{Backend: mismapped{example.New()}, NewKey: newKey, WrongPIN: wrongPIN})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKitRejectsMisMappedErrors$", "-test.v")
	cmd.Env = append(os.Environ(), "AWSKEEP_KIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a backend that maps ErrKeyNotFound wrongly:\n%s", out)
	}
	for _, wantText := range []string{"--- FAIL: TestKitRejectsMisMappedErrors/NotFound", "plugins.ErrKeyNotFound", "--- PASS: TestKitRejectsMisMappedErrors/ImportAndHMAC"} {
		if !strings.Contains(string(out), wantText) {
			t.Errorf("kit output lacks %q:\n%s", wantText, out)
		}
	}
}

func TestLockAfterThreeWrongPINs(t *testing.T) {
	b := example.New()
	ctx := context.Background()
	k := newKey(t)
	if err := b.ImportKey(ctx, k, []byte("AWS4secret"), plugins.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := b.HMAC(ctx, wrongPIN(k), nil); !errors.Is(err, plugins.ErrPINIncorrect) {
			t.Fatalf("wrong PIN: %v", err)
		}
	}
	if _, err := b.HMAC(ctx, k, nil); !errors.Is(err, plugins.ErrPINLocked) {
		t.Fatalf("after 3 wrong PINs: %v, want ErrPINLocked", err)
	}
}

// TestSchemaChecksURIs checks that the example's registered keyuri schema refuses bad URIs
// in the plugin process, where the host (which links no backend) would have let them pass.
func TestSchemaChecksURIs(t *testing.T) {
	bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
	for _, b := range []struct {
		name    string
		backend plugins.Backend
	}{{"in process", example.New()}, {"plugin", conformance.LaunchPlugin(t, bin)}} {
		for _, tc := range []struct{ uri, want string }{
			{"example:name=a;zone=b", `unknown path attribute "zone" (known: name)`},
			{"example:name=a?module-path=/x.so", `unknown query attribute "module-path" (known: pin-source, pin-value)`},
			{"example:?pin-value=", "example: name= is required"},
			{"example:name=", "example: name= is empty"},
			{"pkcs11:object=a", `scheme "pkcs11" is not served here (this backend serves example:)`},
		} {
			t.Run(b.name+"/"+tc.uri, func(t *testing.T) {
				_, err := b.backend.HMAC(context.Background(), plugins.Key{URI: tc.uri}, []byte("20150830"))
				if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("HMAC(%s) = %v, want ErrInvalidKeyURI saying %q", tc.uri, err, tc.want)
				}
			})
		}
	}
}

// TestMissingPINCostsNoTry checks the example's use of plugins.MissingPIN in process and
// over gRPC: an empty PIN is refused as ErrPINIncorrect saying none was given, and however
// often it is sent the key does not lock.
func TestMissingPINCostsNoTry(t *testing.T) {
	bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
	for _, b := range []struct {
		name    string
		backend plugins.Backend
	}{{"in process", example.New()}, {"plugin", conformance.LaunchPlugin(t, bin)}} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			k := newKey(t)
			if err := b.backend.ImportKey(ctx, k, []byte("AWS4secret"), plugins.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			noPIN := plugins.Key{URI: k.URI}
			for range 5 {
				_, err := b.backend.HMAC(ctx, noPIN, []byte("20150830"))
				if !errors.Is(err, plugins.ErrPINIncorrect) || !strings.Contains(err.Error(), "needs a PIN and none was given") {
					t.Fatalf("HMAC without a PIN: %v", err)
				}
			}
			if _, err := b.backend.HMAC(ctx, k, []byte("20150830")); err != nil {
				t.Fatalf("the right PIN after five empty ones: %v", err)
			}
		})
	}
}
