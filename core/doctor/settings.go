package doctor

import (
	"fmt"
	"strings"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// checkSettings merges flags, profile and environment as every credential command does
// (engine.Resolve) and parses the key URI, then summarises the result without secrets.
func (s *state) checkSettings() Result {
	switch {
	case s.noKey:
		return skip("no --profile and no --key: the checks that need a key are skipped")
	case !s.configOK:
		return skip("needs the config file")
	}
	flags := s.in.Flags
	settings, err := engine.Resolve(flags, s.prof, s.in.Getenv)
	if err != nil {
		return fail(err.Error(), "correct the setting named there, in the profile or on the command line")
	}
	if settings.Source == engine.SourceSAML {
		s.settings, s.settingsOK = settings, true
		return ok("%s", samlSummary(settings))
	}
	u, err := keyuri.Parse(settings.Key)
	if err != nil {
		where := origin(settings, "key", "--key")
		return fail(fmt.Sprintf("%s: key URI: %v", where, err),
			"correct the key URI at "+where+" (e.g. pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin)")
	}
	s.settings, s.key, s.settingsOK = settings, u, true
	return ok("%s", summary(settings, u, s.in.Getenv))
}

// summary describes the settings in one line: no PIN, no pin-source path, no MFA code.
func summary(s engine.Settings, u *keyuri.URI, getenv func(string) string) string {
	parts := []string{
		"key " + u.WithoutSecrets().String(),
		"PIN " + pinFrom(u, getenv),
		"access key " + s.AccessKeyID,
	}
	if s.RoleARN == "" {
		parts = append(parts, "GetSessionToken")
	} else {
		op := "AssumeRole " + s.RoleARN + " as " + s.RoleSessionName
		if s.ExternalID != "" {
			op += " with an external id"
		}
		parts = append(parts, op)
	}
	if s.MFASerial != "" {
		parts = append(parts, "MFA "+s.MFASerial+" (code "+mfaFrom(s)+")")
	}
	parts = append(parts, "duration "+s.Duration.String(), "region "+s.Region)
	if s.EndpointURL != "" {
		parts = append(parts, "endpoint "+redactURL(s.EndpointURL))
	}
	if s.CABundle != "" {
		parts = append(parts, "CA bundle "+s.CABundle)
	}
	return strings.Join(parts, ", ")
}

// pinFrom names where the PIN will come from, in pin.Resolve's order.
func pinFrom(u *keyuri.URI, getenv func(string) string) string {
	if _, ok := u.QueryAttr(keyuri.PINSource); ok {
		return "from pin-source"
	}
	if v, ok := u.QueryAttr(keyuri.PINValue); ok {
		if v == "" {
			return "none (empty pin-value)"
		}
		return "from pin-value (discouraged: use pin-source)"
	}
	// $AWSKEEP_PIN and the prompt are used only for a plugin that declares it takes a
	// PIN (plugins.CapabilityPIN), which only the plugin's Info says (the device check).
	if getenv(pin.EnvVar) != "" {
		return "from $" + pin.EnvVar + " if the plugin takes one"
	}
	return "by prompt on the terminal if the plugin takes one"
}

// mfaFrom names what answers the MFA code, in the engine's order.
func mfaFrom(s engine.Settings) string {
	switch {
	case s.MFACode != "":
		return "from --mfa-code"
	case s.MFAProcess != "":
		return "from awskeep_mfa_process"
	}
	return "by prompt on the terminal"
}

// origin names where a setting came from, or fallback when it is a default.
func origin(s engine.Settings, field, fallback string) string {
	if o := s.Origin(field); o != "" {
		return o
	}
	return fallback
}
