package tpm_test

import (
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
)

const pluginPkg = "github.com/awskeep/awskeep/plugin-tpm/cmd/awskeep-plugin-tpm"

func wrongPIN(k plugins.Key) plugins.Key {
	k.PIN = "not-" + k.PIN
	return k
}

// TestConformance runs the contract's kit in process on the simulator and on swtpm, with
// keys at persistent handles and in key files.
func TestConformance(t *testing.T) {
	for _, tgt := range targets {
		for _, kind := range keyKinds {
			t.Run(tgt.name+"/"+kind.name, func(t *testing.T) {
				tg := tgt.new(t)
				conformance.Run(t, conformance.Config{
					Backend:  tg.backend,
					NewKey:   func(t *testing.T) plugins.Key { return kind.new(tg, t, "s3cret pw") },
					WrongPIN: wrongPIN,
				})
				tg.requireNothingLoaded(t)
			})
		}
	}
}

// TestConformancePlugin runs the kit against the real awskeep-plugin-tpm binary over gRPC,
// talking to swtpm through device=tcp://.
func TestConformancePlugin(t *testing.T) {
	bin := conformance.BuildPlugin(t, pluginPkg)
	for _, kind := range keyKinds {
		t.Run("swtpm/"+kind.name, func(t *testing.T) {
			tg := swtpm(t)
			b := conformance.LaunchPlugin(t, bin)
			conformance.Run(t, conformance.Config{
				Backend:  b,
				NewKey:   func(t *testing.T) plugins.Key { return kind.new(tg, t, "s3cret pw") },
				WrongPIN: wrongPIN,
			})
			tg.requireNothingLoaded(t)
		})
	}
}
