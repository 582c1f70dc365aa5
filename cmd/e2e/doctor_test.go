package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctorChecks are the checks awskeep doctor prints, in order.
var doctorChecks = []string{"config", "settings", "plugin", "device", "sts", "clock", "cache"}

// writeDoctorConfig writes u's AWS config (u.home/aws-config, $AWS_CONFIG_FILE) with one
// awskeep profile per entry of keys (profile name -> key URI), each for alice's access key,
// in eu-west-1, with STS at endpoint.
func (u *user) writeDoctorConfig(t *testing.T, endpoint string, keys map[string]string) {
	t.Helper()
	var b strings.Builder
	for name, key := range keys {
		fmt.Fprintf(&b, "[profile %s]\nregion = eu-west-1\nendpoint_url = %s\ncredential_process = %s credential-process --profile %s\nawskeep_key = %s\nawskeep_access_key_id = %s\n\n",
			name, endpoint, awskeep, name, key, world.alice.AccessKeyID)
	}
	if err := os.WriteFile(filepath.Join(u.home, "aws-config"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// doctorReport splits doctor's stdout into its lines by check, checking that there is one
// line per check, in order, each "ok    NAME: ...", "FAIL  NAME: ..." or "skip  NAME: ...".
func doctorReport(t *testing.T, r result) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(doctorChecks) {
		t.Fatalf("doctor printed %d lines, want %d:\n%s\nstderr: %s", len(lines), len(doctorChecks), r.stdout, r.stderr)
	}
	report := map[string]string{}
	for i, line := range lines {
		name := doctorChecks[i]
		ok := false
		for _, status := range []string{"ok    ", "FAIL  ", "skip  "} {
			ok = ok || strings.HasPrefix(line, status+name+": ")
		}
		if !ok {
			t.Fatalf("line %d is not a %s line: %q\n%s", i+1, name, line, r.stdout)
		}
		report[name] = line
	}
	return report
}

// mustDoctorFail checks that doctor printed its whole report, failed with exit 1 and one
// "awskeep: doctor: N of 7 checks failed" line on stderr, and that the line of check
// starts FAIL and says each of wants.
func mustDoctorFail(t *testing.T, r result, check string, wants ...string) map[string]string {
	t.Helper()
	t.Logf("the report:\n%s", r.stdout)
	report := doctorReport(t, r)
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	failed := strings.Count(r.stdout, "\nFAIL  ") + map[bool]int{true: 1}[strings.HasPrefix(r.stdout, "FAIL  ")]
	if want := fmt.Sprintf("awskeep: doctor: %d of %d checks failed\n", failed, len(doctorChecks)); r.stderr != want {
		t.Fatalf("stderr %q, want %q", r.stderr, want)
	}
	line := report[check]
	if !strings.HasPrefix(line, "FAIL  "+check+": ") {
		t.Fatalf("%s did not fail:\n%s", check, r.stdout)
	}
	for _, w := range wants {
		if !strings.Contains(line, w) {
			t.Fatalf("the %s line does not say %q:\n%s", check, w, line)
		}
	}
	return report
}

// doctorClosedPort returns http://127.0.0.1:PORT where nothing listens.
func doctorClosedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestDoctor(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	wrongPIN := "0000-doctor-wrong"
	u.secrets = append(u.secrets, wrongPIN)
	wrongPINFile := filepath.Join(u.home, "wrong-pin")
	if err := os.WriteFile(wrongPINFile, []byte(wrongPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.writeDoctorConfig(t, world.server.URL, map[string]string{
		"prod":     u.keyURI("prod"),
		"wrongpin": u.token.KeyURI("prod") + "&pin-source=file:" + wrongPINFile,
		"missing":  u.keyURI("never-imported"),
	})
	doctor := func(env []string, args ...string) result {
		return u.run("", env, append([]string{"doctor"}, args...)...)
	}

	t.Run("all ok", func(t *testing.T) {
		r := doctor(nil, "--profile", "prod")
		mustSucceed(t, r, "doctor")
		t.Logf("the report:\n%s", r.stdout)
		report := doctorReport(t, r)
		for _, name := range doctorChecks {
			if !strings.HasPrefix(report[name], "ok    ") {
				t.Fatalf("%s is not ok:\n%s", name, r.stdout)
			}
		}
		if r.stderr != "" {
			t.Fatalf("stderr on success: %q", r.stderr)
		}
		for _, want := range []string{
			"[profile prod] parses",
			"key " + u.token.KeyURI("prod") + ",", // without the pin-source
			"access key " + world.alice.AccessKeyID, "GetSessionToken", "region eu-west-1",
			filepath.Join(pluginDir, "awskeep-plugin-pkcs11"),
			"present, non-extractable",
			world.server.URL,
			"will be created 0700",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("the report does not say %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, u.pinFile) {
			t.Fatalf("the report shows the pin-source:\n%s", r.stdout)
		}

		// The same key through flags alone, with a private cache directory in place.
		cache := filepath.Join(u.home, ".cache", "awskeep")
		if err := os.MkdirAll(cache, 0o700); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(cache)
		r = doctor(nil, "--key", u.keyURI("prod"), "--access-key-id", world.alice.AccessKeyID, "--endpoint-url", world.server.URL)
		mustSucceed(t, r, "doctor with flags")
		if report := doctorReport(t, r); !strings.HasPrefix(report["cache"], "ok    cache: "+cache+" is private") {
			t.Fatalf("cache line: %s", report["cache"])
		}
	})

	t.Run("missing plugin", func(t *testing.T) {
		empty := t.TempDir()
		r := doctor([]string{"AWSKEEP_PLUGIN_DIR=" + empty}, "--profile", "prod")
		report := mustDoctorFail(t, r, "plugin", "awskeep-plugin-pkcs11 is not in "+empty+", ",
			"— fix: install it into one of those directories (or pass --plugin-dir)")
		if report["device"] != "skip  device: needs the plugin" {
			t.Fatalf("device line: %q", report["device"])
		}
	})

	t.Run("group-writable plugin", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "awskeep-plugin-pkcs11")
		doctorCopyFile(t, filepath.Join(pluginDir, "awskeep-plugin-pkcs11"), path)
		if err := os.Chmod(path, 0o775); err != nil {
			t.Fatal(err)
		}
		r := doctor([]string{"AWSKEEP_PLUGIN_DIR=" + dir}, "--profile", "prod")
		mustDoctorFail(t, r, "plugin", path+" is writable by group or others (mode 0775)", "— fix: chmod go-w "+path)
	})

	t.Run("wrong PIN", func(t *testing.T) {
		r := doctor(nil, "--profile", "wrongpin")
		mustDoctorFail(t, r, "device", "the device refused the PIN (not retried: it counts toward lockout)",
			"— fix: check pin-source / $AWSKEEP_PIN")
		// The token is not locked: the right PIN still works.
		mustSucceed(t, doctor(nil, "--profile", "prod"), "doctor with the right PIN")
	})

	t.Run("missing key", func(t *testing.T) {
		r := doctor(nil, "--profile", "missing")
		mustDoctorFail(t, r, "device", "never-imported", "— fix: awskeep import --profile missing")
	})

	t.Run("STS unreachable", func(t *testing.T) {
		closed := doctorClosedPort(t)
		r := doctor(nil, "--profile", "prod", "--endpoint-url", closed)
		report := mustDoctorFail(t, r, "sts", closed, "connection refused", "— fix: check endpoint_url / network / proxy")
		if !strings.HasPrefix(report["clock"], "skip  clock: ") {
			t.Fatalf("clock line: %q", report["clock"])
		}
		// endpoint_url in the profile is honoured as well.
		other := newUser(t)
		other.writeDoctorConfig(t, closed, map[string]string{"offline": other.keyURI("prod")})
		mustDoctorFail(t, other.run("", nil, "doctor", "--profile", "offline"), "sts", closed+" (endpoint from "+filepath.Join(other.home, "aws-config")+":3 (endpoint_url))")
	})

	t.Run("cache directory open to others", func(t *testing.T) {
		cache := filepath.Join(u.home, ".cache", "awskeep")
		if err := os.MkdirAll(cache, 0o700); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(cache)
		if err := os.Chmod(cache, 0o755); err != nil {
			t.Fatal(err)
		}
		r := doctor(nil, "--profile", "prod")
		mustDoctorFail(t, r, "cache", cache+" has mode 0755", "— fix: chmod 700 "+cache)
	})

	t.Run("unknown setting", func(t *testing.T) {
		config := filepath.Join(u.home, "aws-config")
		data, err := os.ReadFile(config)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(config, data, 0o600)
		bad := "[profile typo]\nawskeep_kye = " + u.keyURI("prod") + "\n"
		if err := os.WriteFile(config, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		r := doctor(nil, "--profile", "typo")
		report := mustDoctorFail(t, r, "config", config+":2: unknown setting awskeep_kye", "did you mean awskeep_key?")
		if report["settings"] != "skip  settings: needs the config file" {
			t.Fatalf("settings line: %q", report["settings"])
		}
	})

	t.Run("without a profile or key", func(t *testing.T) {
		r := doctor(nil, "--endpoint-url", world.server.URL)
		mustSucceed(t, r, "doctor without a key")
		report := doctorReport(t, r)
		for _, name := range []string{"settings", "device"} {
			if !strings.HasPrefix(report[name], "skip  ") {
				t.Fatalf("%s is not skipped:\n%s", name, r.stdout)
			}
		}
	})

	t.Run("help", func(t *testing.T) {
		r := doctor(nil, "--help")
		mustSucceed(t, r, "doctor --help")
		for _, want := range []string{"doctor prints its report on stdout even when a check fails", "--profile", "--timeout"} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("help does not say %q:\n%s", want, r.stdout)
			}
		}
	})
}

// doctorCopyFile copies src to dst (mode 0700, then set by the caller).
func doctorCopyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
