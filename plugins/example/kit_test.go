package example_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

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

// kitVariants are backends the kit must reject, run in a child test process by name.
var kitVariants = map[string]func() plugins.Backend{
	// Declares software-wrapped storage but says its keys cannot be recovered.
	"wrapped-claims-non-extractable": func() plugins.Backend {
		return wrapped{Backend: example.New(), declare: true, extractable: false}
	},
	// Says its keys are extractable without declaring software-wrapped storage.
	"extractable-undeclared": func() plugins.Backend {
		return wrapped{Backend: example.New(), extractable: true}
	},
	// Claims a device and software wrapping at once.
	"wrapped-and-device": func() plugins.Backend {
		return wrapped{Backend: example.New(), declare: true, extractable: true, device: true}
	},
}

// TestKitChild runs the kit against the variant named by $AWSKEEP_KIT_VARIANT; it does
// nothing in a normal run.
func TestKitChild(t *testing.T) {
	name := os.Getenv("AWSKEEP_KIT_VARIANT")
	if name == "" {
		return
	}
	conformance.Run(t, conformance.Config{Backend: kitVariants[name](), NewKey: newKey, WrongPIN: wrongPIN})
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
