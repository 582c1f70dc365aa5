package doctor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// Status is the outcome of one check.
type Status int

// The outcomes.
const (
	// OK: the check passed.
	OK Status = iota
	// Fail: the check found a problem; Result.Fix says what to do.
	Fail
	// Skip: the check could not run, because a check it needs failed or was not asked for.
	Skip
)

// String returns "ok", "FAIL" or "skip": the words awskeep doctor prints.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Fail:
		return "FAIL"
	case Skip:
		return "skip"
	}
	return "unknown"
}

// Check names, in the order Run runs them. A SAML profile (awskeep_source = saml) has
// CheckIdP, CheckPassword and CheckKerberos in place of CheckPlugin and CheckDevice.
const (
	// CheckConfig reads the config file and the profile.
	CheckConfig = "config"
	// CheckSettings merges flags, profile and environment (engine.Resolve).
	CheckSettings = "settings"
	// CheckPlugin finds the plugin and checks its permissions and pinned checksum.
	CheckPlugin = "plugin"
	// CheckDevice resolves the PIN and asks the device about the key, once.
	CheckDevice = "device"
	// CheckIdP resolves the IdP's host and sends a HEAD to its AWS app URL (SAML).
	CheckIdP = "idp"
	// CheckPassword checks the IdP password source without reading the password out
	// (SAML okta and form).
	CheckPassword = "password"
	// CheckKerberos checks the ticket cache and that the realm's KDC answers (SAML
	// kerberos).
	CheckKerberos = "kerberos"
	// CheckSTS sends one unsigned request to the STS endpoint.
	CheckSTS = "sts"
	// CheckClock compares the local clock with the Date of STS's answer.
	CheckClock = "clock"
	// CheckCache checks that the credential cache directory is private.
	CheckCache = "cache"
)

// Result is the outcome of one check.
type Result struct {
	// Name is one of the Check constants.
	Name string
	// Status says whether the check passed, failed or was skipped.
	Status Status
	// Detail says what was found (OK, Fail) or why the check did not run (Skip). It never
	// holds a PIN or a secret.
	Detail string
	// Fix says what to do about a failure; "" for OK and Skip.
	Fix string
}

// DefaultTimeout bounds each check that does I/O when Input.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxClockSkew is how far the local clock may be from STS's: SigV4 rejects requests signed
// more than 5 minutes away from the server's time (RequestTimeTooSkewed).
const MaxClockSkew = 5 * time.Minute

// Input is what Run checks: the command's flags and the environment it runs in.
type Input struct {
	// Profile is --profile; "" checks without a profile.
	Profile string
	// Flags are the command's flags, as engine.Resolve takes them (empty means not given).
	// Without Profile and Flags.Key, the checks that need a key are skipped.
	Flags engine.Settings
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Plugins says where plugins are and which checksums are pinned; its Getenv defaults
	// to Getenv.
	Plugins pluginhost.Options
	// Prompter asks for a PIN that no setting gives (or the keyring files' password);
	// default the controlling terminal, which fails at once (prompt.ErrNoTerminal) when
	// there is none.
	Prompter prompt.Prompter
	// Logger receives the plugin's own log lines at debug level; nil discards them.
	Logger *slog.Logger
	// HTTPClient sends the probes to STS and to the IdP; default HTTPClient with the
	// settings' CA bundle.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Timeout bounds each check that does I/O (the device, STS, the password source, the
	// KDC; the IdP at most IdPProbeTimeout); default DefaultTimeout.
	Timeout time.Duration
	// NoCache is --no-cache: the cache is not used, so its check is skipped.
	NoCache bool
	// Getuid returns the user the cache directory must belong to; default os.Getuid.
	Getuid func() int
}

// state carries what one check learned to the checks after it.
type state struct {
	in Input

	configPath string
	prof       *profile.Profile
	configOK   bool // the config check passed (or had nothing to do that settings need)

	settings   engine.Settings
	key        *keyuri.URI
	settingsOK bool
	noKey      bool // neither --profile nor --key: checks that need a key are skipped

	pluginOK bool

	sts *stsAnswer
}

// Run runs every check in order and returns one Result per check: config, settings,
// plugin, device, sts, clock, cache; for a SAML profile config, settings, idp, password,
// kerberos, sts, clock, cache. It never fails as a whole: each problem is a Result.
func Run(ctx context.Context, in Input) []Result {
	if in.Getenv == nil {
		in.Getenv = os.Getenv
	}
	if in.Plugins.Getenv == nil {
		in.Plugins.Getenv = in.Getenv
	}
	if in.Now == nil {
		in.Now = time.Now
	}
	if in.Timeout <= 0 {
		in.Timeout = DefaultTimeout
	}
	if in.Getuid == nil {
		in.Getuid = os.Getuid
	}
	s := &state{in: in, noKey: in.Profile == "" && in.Flags.Key == ""}
	type check struct {
		name string
		run  func(context.Context) Result
	}
	results := make([]Result, 0, 8)
	runChecks := func(checks ...check) {
		for _, c := range checks {
			r := c.run(ctx)
			r.Name = c.name
			results = append(results, r)
		}
	}
	runChecks(
		check{CheckConfig, func(context.Context) Result { return s.checkConfig() }},
		check{CheckSettings, func(context.Context) Result { return s.checkSettings() }},
	)
	// Which checks follow depends on the source, known once the profile is read.
	if s.saml() {
		runChecks(check{CheckIdP, s.checkIdP}, check{CheckPassword, s.checkPassword}, check{CheckKerberos, s.checkKerberos})
	} else {
		runChecks(check{CheckPlugin, func(context.Context) Result { return s.checkPlugin() }}, check{CheckDevice, s.checkDevice})
	}
	runChecks(
		check{CheckSTS, s.checkSTS},
		check{CheckClock, func(context.Context) Result { return s.checkClock() }},
		check{CheckCache, func(context.Context) Result { return s.checkCache() }},
	)
	return results
}

// saml reports whether the profile is a SAML profile: by its settings, or, when they do not
// resolve, by its awskeep_source, so that a broken SAML profile still gets the SAML checks
// (skipped with the reason).
func (s *state) saml() bool {
	if s.settingsOK {
		return s.settings.Source == engine.SourceSAML
	}
	return s.prof != nil && s.prof.Source == engine.SourceSAML
}

// Failed counts the results that failed.
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Status == Fail {
			n++
		}
	}
	return n
}

func ok(format string, args ...any) Result {
	return Result{Status: OK, Detail: fmt.Sprintf(format, args...)}
}

func skip(format string, args ...any) Result {
	return Result{Status: Skip, Detail: fmt.Sprintf(format, args...)}
}

func fail(detail, fix string) Result {
	return Result{Status: Fail, Detail: detail, Fix: fix}
}
