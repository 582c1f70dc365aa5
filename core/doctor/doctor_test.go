package doctor

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/prompt"
)

// world is a user's machine in a temp dir: a home, an environment, an empty plugin
// directory and a local STS.
type world struct {
	t       *testing.T
	home    string
	env     map[string]string
	plugins string // AWSKEEP_PLUGIN_DIR
	sts     *httptest.Server
}

const accessKeyID = "AKIAIOSFODNN7EXAMPLE"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, home: t.TempDir()}
	w.plugins = filepath.Join(w.home, "plugins")
	if err := os.Mkdir(w.plugins, 0o700); err != nil {
		t.Fatal(err)
	}
	w.sts = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "<ErrorResponse><Error><Code>MissingAuthenticationToken</Code></Error></ErrorResponse>", http.StatusForbidden)
	}))
	t.Cleanup(w.sts.Close)
	w.env = map[string]string{
		"HOME":                 w.home,
		"XDG_CACHE_HOME":       filepath.Join(w.home, ".cache"),
		"XDG_DATA_HOME":        filepath.Join(w.home, ".local", "share"),
		"AWS_CONFIG_FILE":      filepath.Join(w.home, "aws-config"),
		"AWSKEEP_PLUGIN_DIR":   w.plugins,
		"AWS_ENDPOINT_URL_STS": w.sts.URL,
	}
	return w
}

// input is the doctor's input in w, with no terminal and no real executable directory.
func (w *world) input(profile string, flags engine.Settings) Input {
	exeDir := filepath.Join(w.home, "bin")
	return Input{
		Profile: profile,
		Flags:   flags,
		Getenv:  func(k string) string { return w.env[k] },
		Plugins: pluginhost.Options{
			Executable: func() (string, error) { return filepath.Join(exeDir, "awskeep"), nil },
			PinFile:    filepath.Join(w.home, ".config", "awskeep", "plugins.sha256"),
		},
		Prompter: noTerminal{},
		Timeout:  5 * time.Second,
	}
}

func (w *world) writeConfig(content string) string {
	w.t.Helper()
	path := w.env["AWS_CONFIG_FILE"]
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// installPlugin puts a stand-in plugin binary for scheme into the plugin directory. The
// checks before the device never run it.
func (w *world) installPlugin(scheme string, mode os.FileMode) string {
	w.t.Helper()
	path := filepath.Join(w.plugins, pluginhost.Prefix+scheme)
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 1\n"), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// noTerminal is a Prompter with no terminal behind it.
type noTerminal struct{}

func (noTerminal) Available() error                               { return prompt.ErrNoTerminal }
func (noTerminal) Secret(context.Context, string) (string, error) { return "", prompt.ErrNoTerminal }
func (noTerminal) Line(context.Context, string) (string, error)   { return "", prompt.ErrNoTerminal }
func (noTerminal) Choose(context.Context, string, []string) (int, error) {
	return -1, prompt.ErrNoTerminal
}

// byName returns the result of the named check.
func byName(t *testing.T, results []Result, name string) Result {
	t.Helper()
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s check in %v", name, results)
	return Result{}
}

// want checks the named result's status and that its detail and fix say each of says.
func want(t *testing.T, results []Result, name string, status Status, says ...string) {
	t.Helper()
	r := byName(t, results, name)
	if r.Status != status {
		t.Fatalf("%s: status %v, want %v: %s (fix: %s)", name, r.Status, status, r.Detail, r.Fix)
	}
	text := r.Detail + " — fix: " + r.Fix
	for _, s := range says {
		if !strings.Contains(text, s) {
			t.Fatalf("%s does not say %q: %s", name, s, text)
		}
	}
	if status != Fail && r.Fix != "" {
		t.Fatalf("%s: a fix on a result that did not fail: %q", name, r.Fix)
	}
	if status == Fail && r.Fix == "" {
		t.Fatalf("%s: a failure without a fix: %s", name, r.Detail)
	}
}

func TestOrderAndNames(t *testing.T) {
	w := newWorld(t)
	results := Run(context.Background(), w.input("", engine.Settings{}))
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
	}
	if got, wantNames := strings.Join(names, " "), "config settings plugin device sts clock cache"; got != wantNames {
		t.Fatalf("checks %q, want %q", got, wantNames)
	}
}

func TestWithoutProfileOrKey(t *testing.T) {
	w := newWorld(t)
	results := Run(context.Background(), w.input("", engine.Settings{}))
	want(t, results, CheckConfig, Skip, "does not exist")
	want(t, results, CheckSettings, Skip, "no --profile and no --key")
	want(t, results, CheckPlugin, Fail, "no awskeep-plugin-* in "+w.plugins)
	want(t, results, CheckDevice, Skip, "needs a key")
	want(t, results, CheckSTS, OK, w.sts.URL, "HTTP 403")
	want(t, results, CheckClock, OK)
	want(t, results, CheckCache, OK, "will be created 0700")
	if n := Failed(results); n != 1 {
		t.Fatalf("%d failed, want 1", n)
	}

	w.installPlugin("pkcs11", 0o755)
	w.installPlugin("tpm", 0o775)
	results = Run(context.Background(), w.input("", engine.Settings{}))
	want(t, results, CheckPlugin, Fail, "awskeep-plugin-tpm is writable by group or others", "chmod go-w "+filepath.Join(w.plugins, "awskeep-plugin-tpm"))
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string // "" writes no file
		profile string
		status  Status
		says    []string
	}{
		{name: "parses", profile: "prod", status: OK, says: []string{"[profile prod] parses"},
			config: "[profile prod]\nawskeep_key = pkcs11:token=aws;object=prod\nawskeep_access_key_id = " + accessKeyID + "\n"},
		{name: "default profile", profile: "default", status: OK, says: []string{"[default] parses"},
			config: "[default]\nregion = eu-west-1\n"},
		{name: "no file", profile: "prod", status: Fail, says: []string{"does not exist", "[profile prod]", "AWS_CONFIG_FILE"}},
		{name: "no such profile", profile: "prod", status: Fail, says: []string{`no profile "prod"`, "add a [profile prod] section"},
			config: "[profile other]\nregion = eu-west-1\n"},
		{name: "bare section", profile: "prod", status: Fail, says: []string{"aws-config:1:", "[profile prod]"},
			config: "[prod]\nregion = eu-west-1\n"},
		{name: "unknown settings, each with its line", profile: "prod", status: Fail,
			says: []string{"aws-config:3: unknown setting awskeep_kye", "did you mean awskeep_key?",
				"aws-config:5: unknown setting awskeep_rolearn", "correct or remove the setting at "},
			config: "[profile prod]\nregion = eu-west-1\nawskeep_kye = pkcs11:token=aws;object=prod\nawskeep_access_key_id = " + accessKeyID + "\nawskeep_rolearn = x\n"},
		{name: "bad value", profile: "prod", status: Fail, says: []string{"aws-config:2:", "duration_seconds", "edit "},
			config: "[profile prod]\nduration_seconds = 1h\n"},
		{name: "not an ini file", profile: "prod", status: Fail, says: []string{"aws-config:2: not a valid config file"},
			config: "[profile prod]\nthis is not a setting\n"},
		{name: "without a profile, every profile is checked", status: Fail,
			says:   []string{"aws-config:4: unknown setting awskeep_acess_key_id"},
			config: "[profile a]\nregion = eu-west-1\n[profile b]\nawskeep_acess_key_id = " + accessKeyID + "\n"},
		{name: "without a profile, a good file", status: OK, says: []string{"parses (2 profiles)"},
			config: "[profile a]\nregion = eu-west-1\n[profile b]\nregion = us-west-2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.config != "" {
				w.writeConfig(tt.config)
			}
			results := Run(context.Background(), w.input(tt.profile, engine.Settings{}))
			want(t, results, CheckConfig, tt.status, tt.says...)
			if tt.status == Fail && tt.profile != "" {
				want(t, results, CheckSettings, Skip, "needs the config file")
			}
		})
	}
}

func TestSettings(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(`[profile prod]
region = eu-west-1
awskeep_key = pkcs11:token=aws;object=prod?pin-value=4913-secret-pin
awskeep_access_key_id = ` + accessKeyID + `
[profile role]
awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
awskeep_access_key_id = ` + accessKeyID + `
awskeep_role_arn = arn:aws:iam::123456789012:role/admin
role_session_name = doctor
mfa_serial = arn:aws:iam::123456789012:mfa/u
[profile nokey]
awskeep_access_key_id = ` + accessKeyID + `
[profile badkey]
awskeep_key = pkcs11:token=aws;object
awskeep_access_key_id = ` + accessKeyID + `
`)
	results := Run(context.Background(), w.input("prod", engine.Settings{}))
	want(t, results, CheckSettings, OK, "key pkcs11:token=aws;object=prod,", "access key "+accessKeyID,
		"GetSessionToken", "region eu-west-1", "PIN from pin-value", "endpoint "+w.sts.URL)
	for _, r := range results {
		if strings.Contains(r.Detail+r.Fix, "4913-secret-pin") {
			t.Fatalf("%s shows the PIN: %s", r.Name, r.Detail)
		}
	}

	results = Run(context.Background(), w.input("role", engine.Settings{Region: "ap-south-1"}))
	want(t, results, CheckSettings, OK, "AssumeRole arn:aws:iam::123456789012:role/admin as doctor",
		"MFA arn:aws:iam::123456789012:mfa/u (code by prompt on the terminal)", "region ap-south-1", "PIN from pin-source")
	if strings.Contains(byName(t, results, CheckSettings).Detail, "/run/awskeep/pin") {
		t.Fatal("the summary shows the pin-source")
	}

	results = Run(context.Background(), w.input("nokey", engine.Settings{}))
	want(t, results, CheckSettings, Fail, "no key: set awskeep_key in [profile nokey]")
	want(t, results, CheckPlugin, Skip, "needs the key URI")
	want(t, results, CheckDevice, Skip, "needs the settings")
	want(t, results, CheckSTS, Skip, "needs the settings")

	results = Run(context.Background(), w.input("badkey", engine.Settings{}))
	want(t, results, CheckSettings, Fail, "aws-config:14 (awskeep_key): key URI:", "correct the key URI at")

	// Flags alone, no profile.
	results = Run(context.Background(), w.input("", engine.Settings{Key: "tpm:handle=0x81010002", AccessKeyID: accessKeyID}))
	want(t, results, CheckSettings, OK, "key tpm:handle=0x81010002", "PIN by prompt on the terminal if the plugin takes one")
}

func TestPlugin(t *testing.T) {
	flags := engine.Settings{Key: "pkcs11:token=aws;object=prod", AccessKeyID: accessKeyID}
	t.Run("missing", func(t *testing.T) {
		w := newWorld(t)
		results := Run(context.Background(), w.input("", flags))
		want(t, results, CheckPlugin, Fail, "awskeep-plugin-pkcs11 is not in "+w.plugins+", "+filepath.Join(w.home, "bin")+", ",
			"install it into one of those directories (or pass --plugin-dir)")
		want(t, results, CheckDevice, Skip, "needs the plugin")
	})
	t.Run("group-writable", func(t *testing.T) {
		w := newWorld(t)
		path := w.installPlugin("pkcs11", 0o775)
		results := Run(context.Background(), w.input("", flags))
		want(t, results, CheckPlugin, Fail, path+" is writable by group or others (mode 0775)", "chmod go-w "+path)
	})
	t.Run("not executable", func(t *testing.T) {
		w := newWorld(t)
		path := w.installPlugin("pkcs11", 0o644)
		want(t, Run(context.Background(), w.input("", flags)), CheckPlugin, Fail, "not executable", "chmod u+x "+path)
	})
	t.Run("group-writable directory", func(t *testing.T) {
		w := newWorld(t)
		w.installPlugin("pkcs11", 0o755)
		if err := os.Chmod(w.plugins, 0o777); err != nil {
			t.Fatal(err)
		}
		want(t, Run(context.Background(), w.input("", flags)), CheckPlugin, Fail, "directory "+w.plugins, "chmod go-w "+w.plugins)
	})
	t.Run("pinned and changed", func(t *testing.T) {
		w := newWorld(t)
		path := w.installPlugin("pkcs11", 0o755)
		in := w.input("", flags)
		writePins(t, in.Plugins.PinFile, strings.Repeat("ab", 32)+"  pkcs11\n")
		want(t, Run(context.Background(), in), CheckPlugin, Fail, path+" no longer matches its pinned sha256", "awskeep plugins pin, if the change is intended")
	})
	t.Run("pinned and unchanged", func(t *testing.T) {
		w := newWorld(t)
		path := w.installPlugin("pkcs11", 0o755)
		sum, err := pluginhost.Checksum(path)
		if err != nil {
			t.Fatal(err)
		}
		in := w.input("", flags)
		writePins(t, in.Plugins.PinFile, sum+"  pkcs11\n")
		want(t, Run(context.Background(), in), CheckPlugin, OK, "sha256 matches its pin")
	})
	t.Run("not pinned", func(t *testing.T) {
		w := newWorld(t)
		w.installPlugin("pkcs11", 0o755)
		want(t, Run(context.Background(), w.input("", flags)), CheckPlugin, OK, "not pinned")
	})
}

func writePins(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDevicePIN covers the PIN problems: a pin-source is read before any plugin starts (the
// stand-in plugin would fail if it were run); whether a key without one needs a PIN is the
// plugin's to say (plugins.CapabilityPIN), so that case runs a real plugin, the example.
func TestDevicePIN(t *testing.T) {
	t.Run("no terminal", func(t *testing.T) {
		w := newWorld(t)
		build := exec.Command("go", "build", "-o", w.plugins+"/", "github.com/awskeep/awskeep/plugins/example/cmd/awskeep-plugin-example")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build the example plugin: %v\n%s", err, out)
		}
		results := Run(context.Background(), w.input("", engine.Settings{Key: "example:name=prod", AccessKeyID: accessKeyID}))
		want(t, results, CheckDevice, Fail, "cannot ask for the PIN for example:name=prod: no terminal",
			"set pin-source in the key URI", "$AWSKEEP_PIN")
	})
	t.Run("pin file open to others", func(t *testing.T) {
		w := newWorld(t)
		w.installPlugin("pkcs11", 0o755)
		pinFile := filepath.Join(w.home, "pin")
		if err := os.WriteFile(pinFile, []byte("1234\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		results := Run(context.Background(), w.input("", engine.Settings{
			Key: "pkcs11:token=aws;object=prod?pin-source=file:" + pinFile, AccessKeyID: accessKeyID}))
		want(t, results, CheckDevice, Fail, "chmod 600 "+pinFile, "correct pin-source in the key URI (--key)")
	})
}

func TestSTSAndClock(t *testing.T) {
	flags := engine.Settings{Key: "pkcs11:token=aws;object=prod", AccessKeyID: accessKeyID}
	serve := func(t *testing.T, date func() string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				t.Errorf("method %s, want POST", r.Method)
			}
			if d := date(); d == "" {
				rw.Header()["Date"] = nil // net/http then sends none
			} else {
				rw.Header().Set("Date", d)
			}
			rw.WriteHeader(http.StatusForbidden)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	httpDate := func(off time.Duration) func() string {
		return func() string { return time.Now().Add(off).UTC().Format(http.TimeFormat) }
	}
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()

	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		now      func() time.Time
		sts      Status
		stsSays  []string
		clock    Status
		clkSays  []string
	}{
		{name: "in sync", endpoint: func(t *testing.T) string { return serve(t, httpDate(0)) },
			sts: OK, stsSays: []string{"HTTP 403"}, clock: OK, clkSays: []string{"agrees with STS's Date"}},
		{name: "STS 10 minutes behind", endpoint: func(t *testing.T) string { return serve(t, httpDate(-10*time.Minute)) },
			sts: OK, clock: Fail, clkSays: []string{"the local clock is 10m0s ahead of STS's", "more than 5 minutes off", "timedatectl set-ntp true"}},
		{name: "local clock 10 minutes behind", endpoint: func(t *testing.T) string { return serve(t, httpDate(0)) },
			now: func() time.Time { return time.Now().Add(-10 * time.Minute) },
			sts: OK, clock: Fail, clkSays: []string{"10m0s behind STS's"}},
		{name: "4 minutes off is fine", endpoint: func(t *testing.T) string { return serve(t, httpDate(0)) },
			now: func() time.Time { return time.Now().Add(4 * time.Minute) },
			sts: OK, clock: OK, clkSays: []string{"ahead of STS's (SigV4 allows 5m0s)"}},
		{name: "no Date header", endpoint: func(t *testing.T) string { return serve(t, func() string { return "" }) },
			sts: OK, clock: Skip, clkSays: []string{"without a Date header"}},
		{name: "unreachable", endpoint: func(*testing.T) string { return closed },
			sts: Fail, stsSays: []string{closed + " (endpoint from --endpoint-url) is unreachable", "connection refused", "check endpoint_url / network / proxy"},
			clock: Skip, clkSays: []string{"needs an answer from STS"}},
		{name: "not a URL", endpoint: func(*testing.T) string { return "sts.example.com" },
			sts: Fail, stsSays: []string{"not an http:// or https:// URL"}, clock: Skip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			f := flags
			f.EndpointURL = tt.endpoint(t)
			in := w.input("", f)
			in.Now = tt.now
			results := Run(context.Background(), in)
			want(t, results, CheckSTS, tt.sts, tt.stsSays...)
			want(t, results, CheckClock, tt.clock, tt.clkSays...)
		})
	}

	t.Run("bounded by the timeout", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close() // say nothing
			}
		}()
		w := newWorld(t)
		f := flags
		f.EndpointURL = "http://" + l.Addr().String()
		in := w.input("", f)
		in.Timeout = 200 * time.Millisecond
		start := time.Now()
		results := Run(context.Background(), in)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
		want(t, results, CheckSTS, Fail, "did not answer within 200ms")
	})

	t.Run("the CA bundle is honoured", func(t *testing.T) {
		w := newWorld(t)
		bad := filepath.Join(w.home, "ca.pem")
		if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		f := flags
		f.CABundle = bad
		want(t, Run(context.Background(), w.input("", f)), CheckSTS, Fail, "holds no PEM certificate", "ca_bundle")

		tlsSTS := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.WriteHeader(http.StatusForbidden)
		}))
		tlsSTS.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
		tlsSTS.StartTLS()
		defer tlsSTS.Close()
		f.EndpointURL = tlsSTS.URL
		f.CABundle = ""
		want(t, Run(context.Background(), w.input("", f)), CheckSTS, Fail, "certificate")
		f.CABundle = filepath.Join(w.home, "good.pem")
		writePEM(t, f.CABundle, tlsSTS)
		want(t, Run(context.Background(), w.input("", f)), CheckSTS, OK, "HTTP 403")
	})

	t.Run("default endpoint from the region", func(t *testing.T) {
		for region, endpoint := range map[string]string{
			"eu-west-1": "https://sts.eu-west-1.amazonaws.com", "cn-north-1": "https://sts.cn-north-1.amazonaws.com.cn", "": "https://sts.us-east-1.amazonaws.com",
		} {
			if got := Endpoint("", region); got != endpoint {
				t.Errorf("Endpoint(%q) = %q, want %q", region, got, endpoint)
			}
		}
		if got := Endpoint("http://127.0.0.1:5000", "eu-west-1"); got != "http://127.0.0.1:5000" {
			t.Errorf("Endpoint with a URL = %q", got)
		}
	})
}

func writePEM(t *testing.T, path string, srv *httptest.Server) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCache(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string)
		uid    func() int
		status Status
		says   func(dir string) []string
	}{
		{name: "absent", status: OK, says: func(dir string) []string { return []string{dir + " does not exist yet; it will be created 0700"} }},
		{name: "0700", setup: mkdir(0o700), status: OK, says: func(dir string) []string { return []string{dir + " is private (mode 0700)"} }},
		{name: "0755", setup: mkdir(0o755), status: Fail,
			says: func(dir string) []string {
				return []string{dir + " has mode 0755, open to group or others", "chmod 700 " + dir}
			}},
		{name: "another owner", setup: mkdir(0o700), uid: func() int { return 4242 }, status: Fail,
			says: func(dir string) []string { return []string{"not to you (uid 4242)", "XDG_CACHE_HOME"} }},
		{name: "a file", status: Fail, setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, says: func(dir string) []string { return []string{dir + " is not a directory"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			dir := filepath.Join(w.env["XDG_CACHE_HOME"], "awskeep")
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			in := w.input("", engine.Settings{})
			in.Getuid = tt.uid
			want(t, Run(context.Background(), in), CheckCache, tt.status, tt.says(dir)...)
			if tt.setup == nil {
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("doctor created %s (%v)", dir, err)
				}
			}
		})
	}

	t.Run("--no-cache", func(t *testing.T) {
		w := newWorld(t)
		in := w.input("", engine.Settings{})
		in.NoCache = true
		want(t, Run(context.Background(), in), CheckCache, Skip, "--no-cache")
	})
}

func mkdir(mode os.FileMode) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // not subject to the umask
			t.Fatal(err)
		}
	}
}

func TestStatusString(t *testing.T) {
	for s, w := range map[Status]string{OK: "ok", Fail: "FAIL", Skip: "skip", Status(9): "unknown"} {
		if s.String() != w {
			t.Errorf("%d: %q, want %q", int(s), s.String(), w)
		}
	}
}

func TestBlankLine(t *testing.T) {
	in := "a\nb\nc"
	for n, w := range map[int]string{1: "#\nb\nc", 2: "a\n#\nc", 3: "a\nb\n#", 4: in, 0: in} {
		if got := string(blankLine([]byte(in), n)); got != w {
			t.Errorf("line %d: %q, want %q", n, got, w)
		}
	}
}
