package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/internal/flock"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// DefaultVerifyFor bounds how long Run waits for STS to accept the new key: IAM is
// eventually consistent ("Changes that I make are not always immediately visible", IAM
// User Guide, troubleshooting), and a new key usually works within seconds.
const DefaultVerifyFor = 2 * time.Minute

// Options say which profile to rotate and how. The zero value of each field selects its
// default.
type Options struct {
	// Profile names [profile NAME] of the config file; required.
	Profile string
	// ConfigFile is the AWS config file; default $AWS_CONFIG_FILE, then ~/.aws/config.
	ConfigFile string
	// KeepOld leaves the old access key Inactive in IAM and its object in the device,
	// instead of deleting both.
	KeepOld bool
	// DeleteInactive lets Run delete the user's other access key when the user already has
	// two and that one is Inactive (IAM allows two keys per user; rotation needs room for
	// one more).
	DeleteInactive bool

	// Plugins says where plugins are and how they are checked.
	Plugins pluginhost.Options
	// Getenv reads the environment ($AWSKEEP_PIN, $AWS_ENDPOINT_URL_IAM, $AWS_REGION, ...);
	// default os.Getenv.
	Getenv func(string) string
	// Prompter asks for the PIN when nothing else gives it; default the terminal.
	Prompter prompt.Prompter
	// StateDir holds the journals and their locks; default DefaultStateDir.
	StateDir string
	// Cache, when set, loses the entries of the old key once it is retired.
	Cache *cache.Cache
	// VerifyFor bounds the wait for STS to accept the new key; default DefaultVerifyFor.
	VerifyFor time.Duration
	// Logger receives progress at info level and the plugin's lines at debug; nil logs
	// nothing. Secrets are never logged.
	Logger *slog.Logger
	// Now and Sleep are the clock; defaults time.Now and a timer that ends with ctx.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// Result is what a finished rotation did.
type Result struct {
	Profile        string
	OldAccessKeyID string
	NewAccessKeyID string
	// OldKey and NewKey are the device objects' URIs without PIN source or value.
	OldKey, NewKey string
	// KeptOld: the old key is Inactive in IAM and still in the device.
	KeptOld bool
	// Resumed: this run finished a rotation an earlier run began.
	Resumed bool
}

// Run rotates the access key of the profile's device key, or finishes the rotation an
// earlier run of the same profile began (see the package documentation for the steps).
// Errors say what state the profile and the keys are in and what to do; the sentinels of
// errors.go classify them.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	if err := ensureStateDir(o.StateDir); err != nil {
		return Result{}, err
	}
	jpath, lpath := journalPaths(o.StateDir, o.ConfigFile, o.Profile)
	// Another rotation of the profile runs to its end first; then this one reads the
	// profile as that one left it.
	lock, err := flock.Lock(ctx, lpath, flock.Options{Busy: func() {
		o.Logger.Info("waiting for another rotation of the profile to finish", "profile", o.Profile)
	}})
	if err != nil {
		return Result{}, fmt.Errorf("rotate: lock %s: %w", lpath, err)
	}
	defer flock.Unlock(lock)

	p, err := profile.Load(o.ConfigFile, o.Profile)
	if err != nil {
		return Result{}, creds.Wrap(creds.ClassConfig, "", err)
	}
	s, err := engine.Resolve(engine.Settings{}, p, o.Getenv)
	if err != nil {
		return Result{}, err
	}
	if s.Source != engine.SourceDevice {
		return Result{}, fmt.Errorf("rotate: profile %s: %w: it signs in with SAML and has no access key to rotate", o.Profile, ErrNotDeviceProfile)
	}
	cur, err := keyuri.Parse(s.Key)
	if err != nil {
		return Result{}, creds.Wrap(creds.ClassConfig, s.Origin("key"), fmt.Errorf("key URI: %w", err))
	}
	httpClient, err := sts.HTTPClient(s.CABundle)
	if err != nil {
		return Result{}, creds.Wrap(creds.ClassConfig, s.Origin("ca-bundle"), err)
	}
	j, resumed, err := readJournal(jpath)
	if err != nil {
		return Result{}, err
	}
	d, err := devicekey.Open(ctx, cur, devicekey.OpenOptions{Host: o.Plugins, Logger: o.Logger, Getenv: o.Getenv, Prompter: o.Prompter})
	if err != nil {
		return Result{}, fmt.Errorf("rotate: open key %s: %w", cur.WithoutSecrets(), err)
	}
	defer d.Close()
	r := &run{o: o, p: p, s: s, cur: cur, d: d, http: httpClient, jpath: jpath,
		iamEndpoint: IAMEndpoint(p, o.Getenv)}
	if resumed {
		if err := r.resume(j); err != nil {
			return Result{}, err
		}
		o.Logger.Info("resuming an unfinished rotation", "profile", o.Profile, "after", j.Step,
			"old", j.OldAccessKeyID, "new", j.NewAccessKeyID)
	} else if err := r.begin(ctx); err != nil {
		return Result{}, err
	}
	if err := r.advance(ctx); err != nil {
		return Result{}, err
	}
	return Result{
		Profile: o.Profile, OldAccessKeyID: r.j.OldAccessKeyID, NewAccessKeyID: r.j.NewAccessKeyID,
		OldKey: r.j.OldKey, NewKey: r.j.NewKey, KeptOld: r.j.KeepOld, Resumed: resumed,
	}, nil
}

func (o *Options) defaults() error {
	if o.Profile == "" {
		return errors.New("rotate: no profile given")
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Plugins.Getenv == nil {
		o.Plugins.Getenv = o.Getenv
	}
	if o.Prompter == nil {
		o.Prompter = prompt.TTY{}
	}
	if o.ConfigFile == "" {
		path, err := profile.DefaultPath(o.Getenv)
		if err != nil {
			return creds.Wrap(creds.ClassConfig, "profile "+o.Profile, err)
		}
		o.ConfigFile = path
	}
	if o.StateDir == "" {
		dir, err := DefaultStateDir(o.Getenv)
		if err != nil {
			return err
		}
		o.StateDir = dir
	}
	if o.VerifyFor <= 0 {
		o.VerifyFor = DefaultVerifyFor
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is one invocation's state: the profile as read, its device, and the journal.
type run struct {
	o           Options
	p           *profile.Profile
	s           engine.Settings
	cur         *keyuri.URI // the profile's key URI, with its PIN source
	d           *devicekey.Device
	http        *http.Client
	iamEndpoint string
	jpath       string
	j           *journal
}

// save records that step completed, then gives the test hook its turn.
func (r *run) save(step string) error {
	r.j.Step = step
	r.j.Updated = r.o.Now().UTC()
	if err := writeJournal(r.jpath, r.j); err != nil {
		return r.fail(err)
	}
	r.o.Logger.Info("rotation step done", "profile", r.o.Profile, "step", step)
	crashAfter(step)
	return nil
}
