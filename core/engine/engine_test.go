package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/mfa"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// resolve returns settings for flags alone (no profile, no environment).
func resolve(t *testing.T, flags engine.Settings) engine.Settings {
	t.Helper()
	if flags.Key == "" {
		flags.Key = "pkcs11:token=aws;object=prod?pin-value=" + pinSecret
	}
	if flags.AccessKeyID == "" {
		flags.AccessKeyID = "AKIAIOSFODNN7EXAMPLE"
	}
	s, err := engine.Resolve(flags, nil, envOf(nil))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return s
}

// isolated are Options that cannot reach a plugin, a terminal or this process's
// environment: plugins are looked for in an empty directory only.
func isolated(t *testing.T) engine.Options {
	empty := t.TempDir()
	getenv := envOf(nil)
	return engine.Options{
		Getenv:  getenv,
		Environ: []string{},
		Plugins: pluginhost.Options{
			Dir: empty, Getenv: getenv,
			Executable: func() (string, error) { return filepath.Join(empty, "awskeep"), nil },
		},
		Prompter: fakePrompter{t: t},
	}
}

func TestCacheKey(t *testing.T) {
	base := engine.Settings{
		Key: "pkcs11:token=aws;object=prod", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
		RoleARN: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s", ExternalID: "x",
		Duration: time.Hour, Region: "eu-west-1", EndpointURL: "https://sts.example", MFASerial: "arn:aws:iam::123456789012:mfa/m",
	}
	key := func(t *testing.T, s engine.Settings) cache.Key {
		t.Helper()
		u, err := keyuri.Parse(s.Key)
		if err != nil {
			t.Fatalf("keyuri.Parse(%q): %v", s.Key, err)
		}
		return engine.CacheKey(s, u)
	}

	t.Run("pin-value is stripped", func(t *testing.T) {
		s := base
		s.Key = "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=" + pinSecret
		k := key(t, s)
		if dump := fmt.Sprintf("%+v", k); strings.Contains(dump, pinSecret) || strings.Contains(dump, "pin-value") {
			t.Errorf("cache key carries the PIN: %s", dump)
		}
		if want := "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so"; k.KeyURI != want {
			t.Errorf("KeyURI = %q, want %q", k.KeyURI, want)
		}
	})

	// Where the PIN comes from does not change what STS returns, so it does not split
	// the cache; nor does a one-time MFA code, or the cache would never hit with MFA.
	same := map[string]func(*engine.Settings){
		"pin-value":   func(s *engine.Settings) { s.Key += "?pin-value=" + pinSecret },
		"pin-source":  func(s *engine.Settings) { s.Key += "?pin-source=file:/run/awskeep/pin" },
		"mfa code":    func(s *engine.Settings) { s.MFACode = "123456" },
		"mfa process": func(s *engine.Settings) { s.MFAProcess = "printf 123456" },
		"ca bundle":   func(s *engine.Settings) { s.CABundle = "/etc/ca.pem" },
	}
	for name, change := range same {
		t.Run("same with another "+name, func(t *testing.T) {
			s := base
			change(&s)
			if got, want := key(t, s), key(t, base); got != want {
				t.Errorf("key = %+v, want %+v", got, want)
			}
		})
	}

	differ := map[string]func(*engine.Settings){
		"key":               func(s *engine.Settings) { s.Key = "pkcs11:token=aws;object=dev" },
		"access key id":     func(s *engine.Settings) { s.AccessKeyID = "AKIAIOSFODNN7EXAMPL2" },
		"role":              func(s *engine.Settings) { s.RoleARN = "arn:aws:iam::123456789012:role/other" },
		"no role":           func(s *engine.Settings) { s.RoleARN, s.RoleSessionName, s.ExternalID = "", "", "" },
		"session name":      func(s *engine.Settings) { s.RoleSessionName = "t" },
		"external id":       func(s *engine.Settings) { s.ExternalID = "y" },
		"no external id":    func(s *engine.Settings) { s.ExternalID = "" },
		"duration":          func(s *engine.Settings) { s.Duration = 2 * time.Hour },
		"region":            func(s *engine.Settings) { s.Region = "eu-north-1" },
		"endpoint":          func(s *engine.Settings) { s.EndpointURL = "https://sts.eu-west-1.amazonaws.com" },
		"no endpoint":       func(s *engine.Settings) { s.EndpointURL = "" },
		"mfa serial":        func(s *engine.Settings) { s.MFASerial = "arn:aws:iam::123456789012:mfa/n" },
		"no mfa serial":     func(s *engine.Settings) { s.MFASerial = "" },
		"session name=role": func(s *engine.Settings) { s.RoleARN, s.RoleSessionName = "s", "arn:aws:iam::123456789012:role/r" },
	}
	seen := map[cache.Key]string{key(t, base): "base"}
	for name, change := range differ {
		t.Run("differs by "+name, func(t *testing.T) {
			s := base
			change(&s)
			k := key(t, s)
			if other, ok := seen[k]; ok {
				t.Errorf("key %+v equals the key of %s", k, other)
			}
			seen[k] = name
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("this is not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name   string
		flags  engine.Settings
		text   string // config file; "" for flags alone
		env    map[string]string
		prefix string
		is     error
		want   string
	}{
		{name: "bad key URI flag", flags: engine.Settings{Key: "pkcs11:token=aws;bogus=1"},
			prefix: "--key: ", is: plugins.ErrInvalidKeyURI, want: "bogus"},
		{name: "bad key URI in the profile", text: "[profile p]\nawskeep_key = nokeyuri\nawskeep_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
			prefix: at("2", "awskeep_key") + ": ", is: plugins.ErrInvalidKeyURI, want: "missing scheme"},
		{name: "malformed pin-value is not printed", flags: engine.Settings{Key: "pkcs11:token=aws?pin-value=" + pinSecret + "%zz"},
			prefix: "--key: ", is: plugins.ErrInvalidKeyURI, want: "pin-value"},
		{name: "CA bundle flag not PEM", flags: engine.Settings{CABundle: notPEM},
			prefix: "--ca-bundle: ", want: "holds no PEM certificate"},
		{name: "CA bundle in the profile not PEM", text: baseProfile + "ca_bundle = " + notPEM + "\n",
			prefix: at("4", "ca_bundle") + ": ", want: "holds no PEM certificate"},
		{name: "AWS_CA_BUNDLE not PEM", env: map[string]string{"AWS_CA_BUNDLE": notPEM},
			prefix: "$AWS_CA_BUNDLE: ", want: "holds no PEM certificate"},
		{name: "CA bundle missing", flags: engine.Settings{CABundle: missing},
			prefix: "--ca-bundle: ", is: fs.ErrNotExist, want: missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := tt.flags
			var s engine.Settings
			if tt.text != "" {
				var err error
				if s, err = engine.Resolve(flags, parseProfile(t, tt.text), envOf(tt.env)); err != nil {
					t.Fatalf("Resolve: %v", err)
				}
			} else {
				if flags.Key == "" {
					flags.Key = "pkcs11:token=aws;object=prod"
				}
				flags.AccessKeyID = "AKIAIOSFODNN7EXAMPLE"
				var err error
				if s, err = engine.Resolve(flags, nil, envOf(tt.env)); err != nil {
					t.Fatalf("Resolve: %v", err)
				}
			}
			p, err := engine.New(s, isolated(t))
			if err == nil {
				t.Fatalf("New = %T, want an error", p)
			}
			if c := creds.ClassOf(err); c != creds.ClassConfig {
				t.Errorf("class = %v, want configuration (%v)", c, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("error %q does not start with %q", msg, tt.prefix)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", msg, tt.is)
			}
			if strings.Contains(msg, pinSecret) {
				t.Errorf("error %q prints the pin-value", msg)
			}
		})
	}
}

func TestNewWithCABundle(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, selfSignedPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := engine.New(resolve(t, engine.Settings{CABundle: bundle}), isolated(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, ok := p.(*devicekey.Provider); !ok {
		t.Errorf("New without a cache = %T, want the device-key source", p)
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "awskeep test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestNewCache checks that New wraps the source in the cache under CacheKey: an entry put
// there answers without a plugin, and a miss asks the source (here: a plugin that does not
// exist) and stores nothing.
func TestNewCache(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Open(func(o *cache.Options) { o.Dir = filepath.Join(t.TempDir(), "cache") })
	if err != nil {
		t.Fatalf("cache.Open: %v", err)
	}

	t.Run("hit starts no plugin", func(t *testing.T) {
		s := resolve(t, engine.Settings{RoleARN: "arn:aws:iam::123456789012:role/r"})
		u, err := keyuri.Parse(s.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := creds.Credentials{AccessKeyID: "ASIACACHEDEXAMPLE", SecretAccessKey: "cached-secret", SessionToken: "cached-token",
			Expiration: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
		if err := c.Put(ctx, engine.CacheKey(s, u), want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		opts := isolated(t)
		opts.Cache = c
		p, err := engine.New(s, opts)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		got, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatalf("Retrieve: %v", err)
		}
		if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
			got.SessionToken != want.SessionToken || !got.Expiration.Equal(want.Expiration) {
			t.Errorf("Retrieve = %#v, want %#v", got, want)
		}
	})

	t.Run("miss asks the source", func(t *testing.T) {
		s := resolve(t, engine.Settings{Key: "awskeepnosuchplugin:object=x?pin-value=" + pinSecret})
		opts := isolated(t)
		opts.Cache = c
		p, err := engine.New(s, opts)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		_, err = p.Retrieve(ctx)
		if err == nil {
			t.Fatal("Retrieve with no plugin succeeded")
		}
		if cl := creds.ClassOf(err); cl != creds.ClassPlugin {
			t.Errorf("class = %v, want plugin (%v)", cl, err)
		}
		if !errors.Is(err, pluginhost.ErrNotFound) {
			t.Errorf("error %q is not pluginhost.ErrNotFound", err)
		}
		if strings.Contains(err.Error(), pinSecret) {
			t.Errorf("error %q prints the pin-value", err)
		}
	})

	t.Run("no file holds the PIN", func(t *testing.T) {
		entries, err := os.ReadDir(c.Dir())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(c.Dir(), e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), pinSecret) || strings.Contains(string(data), "pin-value") {
				t.Errorf("cache file %s holds the PIN", e.Name())
			}
		}
	})
}

// fakePrompter answers Line with code and err; it fails the test when asked anything while
// code and err are both unset.
type fakePrompter struct {
	t        *testing.T
	code     string
	err      error
	question *string // receives the question asked, when set
}

func (f fakePrompter) Line(_ context.Context, question string) (string, error) {
	if f.question != nil {
		*f.question = question
	}
	if f.code == "" && f.err == nil {
		f.t.Errorf("unexpected prompt %q", question)
		return "", errors.New("unexpected prompt")
	}
	return f.code, f.err
}

func (f fakePrompter) Secret(_ context.Context, question string) (string, error) {
	f.t.Errorf("unexpected secret prompt %q", question)
	return "", errors.New("unexpected prompt")
}

func (f fakePrompter) Choose(_ context.Context, question string, _ []string) (int, error) {
	f.t.Errorf("unexpected choice %q", question)
	return -1, errors.New("unexpected prompt")
}

// TestMFACode drives the MFA code function New gives the device-key source, in its order:
// --mfa-code, awskeep_mfa_process, a prompt.
func TestMFACode(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/me"
	secretEnv := []string{
		"PATH=" + os.Getenv("PATH"), "AWSKEEP_PIN=111111", "AWS_SECRET_ACCESS_KEY=222222",
		"AWS_SESSION_TOKEN=333333", "KEPT=yes",
	}
	errOther := errors.New("terminal went away")
	tests := []struct {
		name     string
		code     string // --mfa-code
		process  string // awskeep_mfa_process
		environ  []string
		prompter fakePrompter // zero: fails the test if asked
		want     string
		is       error
		wantErr  []string
	}{
		{name: "flag used as is", code: "012345", process: "exit 1", want: "012345"},
		{name: "flag not six digits", code: "12345", wantErr: []string{"six digits"}},
		{name: "flag with letters", code: "12345a", wantErr: []string{"six digits"}},
		{name: "process", process: "printf 123456", environ: secretEnv, want: "123456"},
		{name: "process without the secrets", environ: secretEnv, want: "123456",
			process: `[ -z "$AWSKEEP_PIN" ] && [ -z "$AWS_SECRET_ACCESS_KEY" ] && [ -z "$AWS_SESSION_TOKEN" ] && [ "$KEPT" = yes ] && printf 123456`},
		{name: "process does not see AWSKEEP_PIN", environ: secretEnv, process: `printf %s "${AWSKEEP_PIN:-654321}"`, want: "654321"},
		{name: "process does not see the secret key", environ: secretEnv, process: `printf %s "${AWS_SECRET_ACCESS_KEY:-654321}"`, want: "654321"},
		{name: "process output not a code", environ: secretEnv, process: "echo nope", is: mfa.ErrNoCode},
		{name: "process fails", environ: secretEnv, process: "echo 'not signed in' >&2; exit 3",
			wantErr: []string{"mfa_process exited with status 3", "not signed in"}},
		{name: "prompt", prompter: fakePrompter{code: "246810"}, want: "246810"},
		{name: "prompt answer trimmed", prompter: fakePrompter{code: " 135790\t\r\n"}, want: "135790"},
		{name: "prompt answer not six digits", prompter: fakePrompter{code: "24681"}, wantErr: []string{"six digits"}},
		{name: "prompt answer with inner space", prompter: fakePrompter{code: "123 456"}, wantErr: []string{"six digits"}},
		{name: "prompt without a terminal", prompter: fakePrompter{err: fmt.Errorf("prompt: %w", prompt.ErrNoTerminal)},
			is: prompt.ErrNoTerminal, wantErr: []string{"--mfa-code", "awskeep_mfa_process", serial}},
		{name: "prompt fails", prompter: fakePrompter{err: errOther}, is: errOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resolve(t, engine.Settings{MFASerial: serial})
			// Set after Resolve, which refuses a malformed --mfa-code itself: the code
			// function checks again whatever it is given.
			s.MFACode, s.MFAProcess = tt.code, tt.process
			opts := isolated(t)
			if tt.environ != nil {
				opts.Environ = tt.environ
			}
			var question string
			prompter := tt.prompter
			prompter.t, prompter.question = t, &question
			opts.Prompter = prompter
			code := mfaCodeFunc(t, s, opts)

			got, err := code(context.Background())
			if tt.is == nil && tt.wantErr == nil {
				if err != nil {
					t.Fatalf("MFA code: %v", err)
				}
				if got != tt.want {
					t.Errorf("MFA code = %q, want %q", got, tt.want)
				}
				if tt.prompter.code != "" && !strings.Contains(question, serial) {
					t.Errorf("question %q does not name the MFA device", question)
				}
				return
			}
			if err == nil {
				t.Fatalf("MFA code = %q, want an error", got)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{"111111", "222222", "333333"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q prints a secret", err)
				}
			}
		})
	}

	t.Run("no MFA device", func(t *testing.T) {
		if p := sourceOf(t, resolve(t, engine.Settings{}), isolated(t)); p.Request.MFACode != nil {
			t.Error("an MFA code function without mfa_serial")
		}
	})
}

// mfaCodeFunc returns the MFA code function New puts in the device-key source for s.
func mfaCodeFunc(t *testing.T, s engine.Settings, opts engine.Options) func(context.Context) (string, error) {
	t.Helper()
	p := sourceOf(t, s, opts)
	if p.Request.MFASerial != s.MFASerial || p.Request.MFACode == nil {
		t.Fatalf("source has MFA serial %q and code function %v", p.Request.MFASerial, p.Request.MFACode != nil)
	}
	return p.Request.MFACode
}

// sourceOf returns the device-key source New builds for s without a cache.
func sourceOf(t *testing.T, s engine.Settings, opts engine.Options) *devicekey.Provider {
	t.Helper()
	opts.Cache = nil
	p, err := engine.New(s, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	dp, ok := p.(*devicekey.Provider)
	if !ok {
		t.Fatalf("New = %T, want *devicekey.Provider", p)
	}
	return dp
}

// TestNewRequest checks that New hands the resolved settings to the device-key source.
func TestNewRequest(t *testing.T) {
	s := resolve(t, engine.Settings{
		RoleARN: "arn:aws:iam::123456789012:role/r", RoleSessionName: "sess", ExternalID: "ext",
		Duration: 2 * time.Hour, MFASerial: "arn:aws:iam::123456789012:mfa/me",
	})
	p := sourceOf(t, s, isolated(t))
	r := p.Request
	if r.AccessKeyID != s.AccessKeyID || r.RoleARN != s.RoleARN || r.RoleSessionName != "sess" ||
		r.ExternalID != "ext" || r.Duration != 2*time.Hour || r.MFASerial != s.MFASerial {
		t.Errorf("Request = %+v, want the settings %+v", r, s)
	}
	if got := p.Key.String(); got != "pkcs11:token=aws;object=prod" {
		t.Errorf("Key = %q", got)
	}
	if v, ok := p.Key.QueryAttr(keyuri.PINValue); !ok || v != pinSecret {
		t.Error("the source lost the pin-value it needs to open the key")
	}
}
