package example_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/awskeep/awskeep/plugins/example"
)

// wrapped is the example backend dressed as a software-wrapped store (a Tink keyset under a
// KMS key): it declares plugins.CapabilitySoftwareWrapped and describes its keys as
// extractable and not sensitive unless told to lie.
type wrapped struct {
	*example.Backend
	declare     bool // claim CapabilitySoftwareWrapped in Info
	extractable bool // what DescribeKey says
	device      bool // also claim CapabilityNonExtractable
}

func (w wrapped) Info(ctx context.Context) (plugins.Info, error) {
	info, err := w.Backend.Info(ctx)
	if w.declare {
		info.Capabilities = append(slices.Clone(info.Capabilities), plugins.CapabilitySoftwareWrapped)
	}
	if w.device {
		info.Capabilities = append(info.Capabilities, plugins.CapabilityNonExtractable)
	}
	return info, err
}

func (w wrapped) DescribeKey(ctx context.Context, k plugins.Key) (plugins.KeyDescription, error) {
	d, err := w.Backend.DescribeKey(ctx, k)
	if d.Exists {
		d.Extractable = w.extractable
		d.Attributes = map[string]string{"storage": "keyset file", "wrapped-by": "test"}
	}
	return d, err
}

func TestKitAcceptsHonestSoftwareWrapped(t *testing.T) {
	conformance.Run(t, conformance.Config{
		Backend: wrapped{Backend: example.New(), declare: true, extractable: true},
		NewKey:  newKey, WrongPIN: wrongPIN,
	})
}

// kitVariants are backends the kit must reject, with the settings to run them with, run in
// a child test process by name.
var kitVariants = map[string]func() conformance.Config{
	// Declares software-wrapped storage but says its keys cannot be recovered.
	"wrapped-claims-non-extractable": func() conformance.Config {
		return conformance.Config{Backend: wrapped{Backend: example.New(), declare: true, extractable: false}}
	},
	// Says its keys are extractable without declaring software-wrapped storage.
	"extractable-undeclared": func() conformance.Config {
		return conformance.Config{Backend: wrapped{Backend: example.New(), extractable: true}}
	},
	// Claims a device and software wrapping at once.
	"wrapped-and-device": func() conformance.Config {
		return conformance.Config{Backend: wrapped{Backend: example.New(), declare: true, extractable: true, device: true}}
	},
	// A device that serialises HMACs and derives a key for each (20 ms): 160 calls of the
	// Concurrent check take 3.2 s, more than the 2 s budget.
	"slow-per-call": func() conformance.Config {
		return conformance.Config{Backend: &slow{Backend: example.New(), perCall: 20 * time.Millisecond}, CheckTimeout: 2 * time.Second}
	},
	// An import that never returns on its own.
	"stuck-import": func() conformance.Config {
		return conformance.Config{Backend: stuckImport{example.New()}, CheckTimeout: 200 * time.Millisecond}
	},
	// The real plugin over gRPC with a budget no call can meet: the host's deadline comes
	// back across the process boundary and is explained all the same.
	// (No Backend: TestKitChild launches the example plugin.)
	"plugin-no-budget": func() conformance.Config {
		return conformance.Config{CheckTimeout: time.Nanosecond}
	},
	// Reports a missing key as ErrKeyNotFound and ErrDeviceUnavailable at once.
	"two-sentinels": func() conformance.Config {
		return conformance.Config{Backend: twoSentinels{example.New()}}
	},
}

// TestKitChild runs the kit against the variant named by $AWSKEEP_KIT_VARIANT; it does
// nothing in a normal run.
func TestKitChild(t *testing.T) {
	name := os.Getenv("AWSKEEP_KIT_VARIANT")
	if name == "" {
		return
	}
	cfg := kitVariants[name]()
	if cfg.Backend == nil {
		bin := conformance.BuildPlugin(t, "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
		cfg.Backend = conformance.LaunchPlugin(t, bin)
	}
	cfg.NewKey, cfg.WrongPIN = newKey, wrongPIN
	conformance.Run(t, cfg)
}

// slow serialises HMACs and spends perCall on each, honouring the context.
type slow struct {
	*example.Backend
	mu      sync.Mutex
	perCall time.Duration
}

func (s *slow) HMAC(ctx context.Context, k plugins.Key, msg []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-time.After(s.perCall):
	case <-ctx.Done():
		return nil, fmt.Errorf("slow: derive key: %w", ctx.Err())
	}
	return s.Backend.HMAC(ctx, k, msg)
}

type stuckImport struct{ *example.Backend }

func (s stuckImport) ImportKey(ctx context.Context, k plugins.Key, m []byte, opts plugins.ImportOptions) error {
	<-ctx.Done()
	return fmt.Errorf("stuck: import: %w", ctx.Err())
}

type twoSentinels struct{ *example.Backend }

func (b twoSentinels) HMAC(ctx context.Context, k plugins.Key, msg []byte) ([]byte, error) {
	mac, err := b.Backend.HMAC(ctx, k, msg)
	if errors.Is(err, plugins.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w (%w)", err, plugins.ErrDeviceUnavailable)
	}
	return mac, err
}

// TestKitPassesSlowDeviceWithLessLoad runs the slow device that fails with the defaults
// (see "slow-per-call") with the load lowered as the failure advises: it passes.
func TestKitPassesSlowDeviceWithLessLoad(t *testing.T) {
	conformance.Run(t, conformance.Config{
		Backend: &slow{Backend: example.New(), perCall: 20 * time.Millisecond}, NewKey: newKey, WrongPIN: wrongPIN,
		CheckTimeout: 2 * time.Second, Concurrency: 2, CallsPerCaller: 5,
	})
}

func TestKitExplainsSlowDevices(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    []string
	}{
		{"slow-per-call", []string{
			"--- FAIL: TestKitChild/Concurrent",
			"HMACs (Config.Concurrency 8 × Config.CallsPerCaller 20) were done when the budget ran out",
			"ran out of check TestKitChild/Concurrent's time budget of 2s (Config.CheckTimeout)",
			"raise Config.CheckTimeout, or lower Config.Concurrency (8) and Config.CallsPerCaller (20)",
			"--- PASS: TestKitChild/ImportAndHMAC",
		}},
		{"plugin-no-budget", []string{
			"--- FAIL: TestKitChild/ImportAndHMAC",
			"Info: ran out of check TestKitChild/Info's time budget of 1ns (Config.CheckTimeout)",
			"): ran out of check TestKitChild/ImportAndHMAC's time budget of 1ns (Config.CheckTimeout)",
			"raise Config.CheckTimeout for a device this slow: plugin example: context deadline exceeded",
		}},
		{"stuck-import", []string{
			"--- FAIL: TestKitChild/ImportAndHMAC",
			"ImportKey(example:name=key-", "): ran out of check TestKitChild/ImportAndHMAC's",
			"ran out of check TestKitChild/ImportAndHMAC's time budget of 200ms (Config.CheckTimeout)",
			"raise Config.CheckTimeout for a device this slow: stuck: import: context deadline exceeded",
		}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			out := runKitChild(t, tc.variant)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("kit output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestKitRejectsTwoSentinels(t *testing.T) {
	out := runKitChild(t, "two-sentinels")
	for _, w := range []string{
		"--- FAIL: TestKitChild/NotFound",
		"wraps 2 of the contract's sentinels (ErrKeyNotFound, ErrDeviceUnavailable): wrap exactly one, plugins.ErrKeyNotFound",
		"--- PASS: TestKitChild/ImportAndHMAC",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("kit output lacks %q:\n%s", w, out)
		}
	}
}

// runKitChild runs the kit against a variant in a child process and returns its output,
// failing the test if the kit passed.
func runKitChild(t *testing.T, variant string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKitChild$", "-test.v")
	cmd.Env = append(os.Environ(), "AWSKEEP_KIT_VARIANT="+variant)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed variant %s:\n%s", variant, out)
	}
	return string(out)
}

func TestKitRejectsDishonestExtractability(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    []string
	}{
		{"wrapped-claims-non-extractable", []string{
			"--- FAIL: TestKitChild/NonExtractable", `claims "software-wrapped" but DescribeKey reports Extractable false`,
		}},
		{"extractable-undeclared", []string{
			"--- FAIL: TestKitChild/NonExtractable", "plugins.CapabilitySoftwareWrapped",
		}},
		{"wrapped-and-device", []string{
			"--- FAIL: TestKitChild/NonExtractable", `claims both "non-extractable" and "software-wrapped"`,
		}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			out := runKitChild(t, tc.variant)
			for _, w := range append(tc.want, "--- PASS: TestKitChild/ImportAndHMAC") {
				if !strings.Contains(out, w) {
					t.Errorf("kit output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
