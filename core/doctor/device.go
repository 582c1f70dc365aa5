package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins"
)

// checkDevice resolves the PIN, starts the plugin and asks the device about the key, once:
// a refused PIN is reported and never retried, because each failure counts toward the
// device's lockout.
func (s *state) checkDevice(ctx context.Context) Result {
	switch {
	case s.noKey:
		return skip("needs a key (--profile or --key)")
	case !s.settingsOK:
		return skip("needs the settings")
	case !s.pluginOK:
		return skip("needs the plugin")
	}
	ctx, cancel := context.WithTimeout(ctx, s.in.Timeout)
	defer cancel()
	uri := s.key.WithoutSecrets().String()
	d, err := devicekey.Open(ctx, s.key, devicekey.OpenOptions{
		Host: s.in.Plugins, Logger: s.in.Logger, Getenv: s.in.Getenv, Prompter: s.in.Prompter,
	})
	if err != nil {
		return s.openFailure(err)
	}
	defer d.Close()
	desc, err := d.Backend.DescribeKey(ctx, d.Key)
	if err != nil {
		return s.deviceFailure(uri, err)
	}
	plugin := d.Info.Name + " " + d.Info.Version
	wrapped := slices.Contains(d.Info.Capabilities, plugins.CapabilitySoftwareWrapped)
	switch {
	case !desc.Exists:
		return fail(fmt.Sprintf("%s: no key %s in the device", plugin, uri), s.importFix(false))
	case desc.Extractable && !wrapped:
		return fail(fmt.Sprintf("%s: key %s is extractable: the device would let the secret out", plugin, uri),
			"import it again, as awskeep does, non-extractable: "+s.importFix(true))
	case desc.Algorithm != "" && desc.Algorithm != plugins.AlgorithmHMACSHA256:
		return fail(fmt.Sprintf("%s: key %s is %s, not %s", plugin, uri, desc.Algorithm, plugins.AlgorithmHMACSHA256),
			s.importFix(true))
	}
	enforced := "non-extractable"
	switch {
	case wrapped:
		// A software-wrapped key is extractable by design (plugins.CapabilitySoftwareWrapped):
		// say what that means rather than fail.
		enforced = "software-wrapped: decrypted into the plugin's memory; the file alone is useless, the file with access to its wrapping key is the key"
	case !slices.Contains(d.Info.Capabilities, plugins.CapabilityNonExtractable):
		enforced = "non-extractable (as the backend reports; it cannot enforce it)"
	}
	return ok("%s: key %s present, %s", plugin, uri, enforced)
}

// openFailure explains why the PIN or the plugin could not be had.
func (s *state) openFailure(err error) Result {
	var nt *prompt.NoTerminalError
	switch {
	case errors.As(err, &nt):
		return fail("cannot ask for the "+nt.Question+": no terminal", "set "+nt.Setting)
	case errors.Is(err, context.DeadlineExceeded):
		return fail(fmt.Sprintf("the plugin did not start within %v: %v", s.in.Timeout, err),
			"raise --timeout if the device is slow; run with --log-level debug to see the plugin's log")
	case errors.Is(err, pluginhost.ErrUnsafe):
		return fail(err.Error(), "awskeep plugins pin, if the plugin changed on purpose; otherwise reinstall it")
	case creds.ClassOf(err) == creds.ClassConfig:
		return fail(err.Error(), fmt.Sprintf("correct pin-source in the key URI (%s) or $%s", origin(s.settings, "key", "--key"), pin.EnvVar))
	case creds.ClassOf(err) == creds.ClassPrompt:
		return fail(err.Error(), "set "+pin.Setting)
	}
	return fail(err.Error(), "run awskeep plugins list, or this command with --log-level debug, to see why the plugin does not start")
}

// deviceFailure explains a refusal of DescribeKey, the one device operation doctor makes.
func (s *state) deviceFailure(uri string, err error) Result {
	text := oneLine(err.Error())
	switch {
	case errors.Is(err, plugins.ErrPINIncorrect):
		return fail(uri+": the device refused the PIN (not retried: it counts toward lockout)",
			"check pin-source / $"+pin.EnvVar)
	case errors.Is(err, plugins.ErrPINLocked):
		return fail(uri+": the PIN is locked: "+text,
			"unlock or reset the PIN with the device's own administration tool (e.g. the SO PIN); awskeep does not retry")
	case errors.Is(err, plugins.ErrKeyNotFound):
		return fail(uri+": no such key in the device", s.importFix(false))
	case errors.Is(err, plugins.ErrAmbiguousKey):
		return fail(uri+": more than one key matches", "add an attribute to the key URI that names one key (e.g. id= for PKCS#11)")
	case errors.Is(err, plugins.ErrDeviceUnavailable):
		return fail(uri+": device unreachable: "+text,
			"check that the device is connected and that the URI's token, module-path or connector name it")
	case errors.Is(err, plugins.ErrInvalidKeyURI):
		return fail(uri+": "+text, "correct the key URI at "+origin(s.settings, "key", "--key"))
	case errors.Is(err, context.DeadlineExceeded):
		return fail(fmt.Sprintf("%s: the device did not answer within %v", uri, s.in.Timeout),
			"check the device; raise --timeout if it is slow")
	case errors.Is(err, plugins.ErrPluginUnavailable):
		return fail(uri+": "+text, "run with --log-level debug to see the plugin's log")
	}
	return fail(uri+": "+text, "check the device and the key URI (awskeep keys describe --key URI --log-level debug)")
}

// importFix is the command that puts the key into the device.
func (s *state) importFix(force bool) string {
	cmd := "awskeep import"
	if force {
		cmd += " --force"
	}
	if s.settings.Origin("key") == "--key" || s.in.Profile == "" {
		return cmd + " --key '" + s.key.WithoutSecrets().String() + "' (with your pin-source)"
	}
	return cmd + " --profile " + s.in.Profile
}
