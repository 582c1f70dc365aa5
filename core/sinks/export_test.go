package sinks_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gopkg.in/ini.v1"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sinks"
)

// hostile are strings a POSIX shell would expand, split, glob or stop at unless quoted.
var hostile = []string{
	"a'b\"c $HOME `x`",
	"$(touch pwned)",
	"`touch pwned`",
	"'",
	"''",
	`\`,
	`ends in a backslash\`,
	`\'`,
	"line\nbreak",
	"tab\there",
	"  leading and trailing  ",
	"!x !! ^y",
	"*",
	"~/x ~",
	";exit 3",
	"a && b || c | d > e < f & g",
	"-n",
	"%s%d%%",
	"${HOME:-x}",
	"#not a comment",
	"ünïcødé ✓",
	"",
}

// shell runs script with sh -c in an empty directory (so globs and `touch pwned` are
// visible) with a small environment, feeding it stdin, and returns its stdout.
func shell(t *testing.T, script, stdin string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/must-not-expand"}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sh -c %q: %v; stderr: %s", script, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("sh -c %q wrote to stderr: %s", script, stderr.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("the shell created %s: a value was executed", entries[0].Name())
	}
	return stdout.String()
}

func TestShellQuote(t *testing.T) {
	golden := map[string]string{
		"":         `''`,
		"plain":    `'plain'`,
		"it's":     `'it'\''s'`,
		"$HOME":    `'$HOME'`,
		"a\nb":     "'a\nb'",
		`back\`:    `'back\'`,
		"''":       `''\'''\'''`,
		"a b\tc":   "'a b\tc'",
		"`x` $(y)": "'`x` $(y)'",
	}
	for in, want := range golden {
		t.Run(fmt.Sprintf("golden %q", in), func(t *testing.T) {
			if got := sinks.ShellQuote(in); got != want {
				t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
			}
		})
	}
	for _, s := range hostile {
		t.Run(fmt.Sprintf("shell reads back %q", s), func(t *testing.T) {
			if got := shell(t, "printf '%s' "+sinks.ShellQuote(s), ""); got != s {
				t.Errorf("sh read %q, want %q", got, s)
			}
		})
	}
}

// TestExportEnvInShell evaluates the env format in a real shell, as
// eval "$(awskeep export --profile P)" does, and reads every variable back.
func TestExportEnvInShell(t *testing.T) {
	exp := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const script = `eval "$(cat)"; printf '%s\000' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "${AWS_SESSION_TOKEN-unset}" ` +
		`"${AWS_CREDENTIAL_EXPIRATION-unset}" "${AWS_REGION-unset}" "${AWS_DEFAULT_REGION-unset}"`
	type want struct{ akid, secret, token, expiration, region string }
	tests := []struct {
		name   string
		c      creds.Credentials
		region string
		want   want
	}{
		{name: "plain", c: creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			SessionToken: "IQoJb3JpZ2luX2VjE+/==", Expiration: exp}, region: "eu-west-1",
			want: want{"ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjE+/==", "2026-11-30T12:00:00Z", "eu-west-1"}},
		{name: "long-term without region", c: creds.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s"},
			want: want{"AKIAIOSFODNN7EXAMPLE", "s", "unset", "unset", "unset"}},
	}
	for i, s := range hostile {
		if s == "" {
			continue // a secret is never empty (Export refuses incomplete credentials)
		}
		tests = append(tests, struct {
			name   string
			c      creds.Credentials
			region string
			want   want
		}{
			name:   fmt.Sprintf("hostile %d %q", i, s),
			c:      creds.Credentials{AccessKeyID: s, SecretAccessKey: s + "/secret", SessionToken: "token " + s, Expiration: exp},
			region: s,
			want:   want{s, s + "/secret", "token " + s, "2026-11-30T12:00:00Z", s},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sinks.Export(tt.c, tt.region, "env", "")
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if !strings.HasPrefix(string(out), "export AWS_ACCESS_KEY_ID='") {
				t.Errorf("output does not start with the access key id: %q", out)
			}
			got := strings.Split(shell(t, script, string(out)), "\x00")
			w := tt.want
			wantFields := []string{w.akid, w.secret, w.token, w.expiration, w.region, w.region, ""}
			if strings.Join(got, "\x00") != strings.Join(wantFields, "\x00") {
				t.Errorf("shell read\n %q\nwant\n %q\nfrom\n%s", got, wantFields, out)
			}
		})
	}
}

func TestExportJSON(t *testing.T) {
	tests := []struct {
		name string
		c    creds.Credentials
	}{
		{name: "temporary", c: creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			SessionToken: "IQoJb3JpZ2luX2VjE+/==", Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}},
		{name: "long-term", c: creds.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s"}},
		{name: "hostile", c: creds.Credentials{AccessKeyID: hostile[0], SecretAccessKey: "\"}\n\\u0000", SessionToken: "<&>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sinks.Export(tt.c, "eu-west-1", "json", "")
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			got, err := credproc.Parse(out)
			if err != nil {
				t.Fatalf("credproc.Parse(%s): %v", out, err)
			}
			if got.AccessKeyID != tt.c.AccessKeyID || got.SecretAccessKey != tt.c.SecretAccessKey ||
				got.SessionToken != tt.c.SessionToken || !got.Expiration.Equal(tt.c.Expiration) {
				t.Errorf("round trip = %#v, want %#v", got, tt.c)
			}
		})
	}
}

func TestExportINI(t *testing.T) {
	exp := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	temporary := creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		SessionToken: "IQoJb3JpZ2luX2VjE+/==", Expiration: exp}
	tests := []struct {
		name        string
		c           creds.Credentials
		section     string
		wantKeys    map[string]string
		wantComment bool
	}{
		{name: "temporary", c: temporary, section: "prod-hsm", wantComment: true, wantKeys: map[string]string{
			"aws_access_key_id": temporary.AccessKeyID, "aws_secret_access_key": temporary.SecretAccessKey,
			"aws_session_token": temporary.SessionToken,
		}},
		{name: "long-term", c: creds.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s"}, section: "default",
			wantKeys: map[string]string{"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "s"}},
		{name: "section with punctuation", c: temporary, section: "team/prod:admin@example.com", wantComment: true, wantKeys: map[string]string{
			"aws_access_key_id": temporary.AccessKeyID, "aws_secret_access_key": temporary.SecretAccessKey,
			"aws_session_token": temporary.SessionToken,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sinks.Export(tt.c, "eu-west-1", "ini", tt.section)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			f, err := ini.Load(out)
			if err != nil {
				t.Fatalf("ini.Load(%s): %v", out, err)
			}
			var names []string
			for _, s := range f.Sections() {
				if s.Name() != ini.DefaultSection {
					names = append(names, s.Name())
				}
			}
			if len(names) != 1 || names[0] != tt.section {
				t.Fatalf("sections %q, want only [%s]", names, tt.section)
			}
			if n := len(f.Section(ini.DefaultSection).Keys()); n != 0 {
				t.Errorf("%d keys before the section", n)
			}
			sec := f.Section(tt.section)
			got := map[string]string{}
			for _, k := range sec.Keys() {
				got[k.Name()] = k.Value()
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantKeys) {
				t.Errorf("keys %v, want %v", got, tt.wantKeys)
			}
			hasComment := strings.Contains(sec.Comment, "2026-11-30T12:00:00Z") ||
				strings.Contains(string(out), "# temporary credentials from awskeep; they expire at 2026-11-30T12:00:00Z\n")
			if hasComment != tt.wantComment {
				t.Errorf("expiry comment present %v, want %v:\n%s", hasComment, tt.wantComment, out)
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	good := creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "secret-value", SessionToken: "token-value"}
	tests := []struct {
		name    string
		c       creds.Credentials
		format  string
		section string
		want    string
	}{
		{name: "unknown format", c: good, format: "yaml", want: `unknown format "yaml" (want env, json, ini)`},
		{name: "empty format", c: good, format: "", want: `unknown format ""`},
		{name: "format is case-sensitive", c: good, format: "ENV", want: `unknown format "ENV"`},
		{name: "section with ]", c: good, format: "ini", section: "a]b", want: "cannot name a credentials-file section"},
		{name: "section with [", c: good, format: "ini", section: "a[b", want: "cannot name a credentials-file section"},
		{name: "section with newline", c: good, format: "ini", section: "a\n[b", want: "cannot name a credentials-file section"},
		{name: "section with carriage return", c: good, format: "ini", section: "a\rb", want: "cannot name a credentials-file section"},
		{name: "empty section", c: good, format: "ini", section: "", want: "cannot name a credentials-file section"},
		{name: "section too long", c: good, format: "ini", section: strings.Repeat("a", 129), want: "cannot name a credentials-file section"},
		{name: "ini value with a newline", c: creds.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t\n[other]\naws_access_key_id = x"},
			format: "ini", section: "p", want: "aws_session_token"},
		{name: "ini value with a carriage return", c: creds.Credentials{AccessKeyID: "ASIA\r", SecretAccessKey: "s"},
			format: "ini", section: "p", want: "aws_access_key_id"},
	}
	for _, f := range sinks.Formats {
		tests = append(tests,
			struct {
				name    string
				c       creds.Credentials
				format  string
				section string
				want    string
			}{name: "no secret " + f, c: creds.Credentials{AccessKeyID: "ASIA"}, format: f, section: "p", want: "incomplete"},
			struct {
				name    string
				c       creds.Credentials
				format  string
				section string
				want    string
			}{name: "no access key id " + f, c: creds.Credentials{SecretAccessKey: "secret-value"}, format: f, section: "p", want: "incomplete"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sinks.Export(tt.c, "eu-west-1", tt.format, tt.section)
			if err == nil {
				t.Fatalf("Export = %q, want an error", out)
			}
			if out != nil {
				t.Errorf("Export returned output %q with its error", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, secret := range []string{"secret-value", "token-value", "[other]"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q prints a secret", err)
				}
			}
		})
	}
}

func ExampleExport_env() {
	c := creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalr/K7MDENG+it's",
		SessionToken: "IQoJb3JpZ2luX2VjE", Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	out, _ := sinks.Export(c, "eu-west-1", "env", "")
	fmt.Print(string(out))
	// Output:
	// export AWS_ACCESS_KEY_ID='ASIAIOSFODNN7EXAMPLE'
	// export AWS_SECRET_ACCESS_KEY='wJalr/K7MDENG+it'\''s'
	// export AWS_SESSION_TOKEN='IQoJb3JpZ2luX2VjE'
	// export AWS_CREDENTIAL_EXPIRATION='2026-11-30T12:00:00Z'
	// export AWS_REGION='eu-west-1'
	// export AWS_DEFAULT_REGION='eu-west-1'
}

func ExampleExport_ini() {
	c := creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG",
		SessionToken: "IQoJb3JpZ2luX2VjE", Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	out, _ := sinks.Export(c, "eu-west-1", "ini", "prod-hsm")
	fmt.Print(string(out))
	// Output:
	// [prod-hsm]
	// # temporary credentials from awskeep; they expire at 2026-11-30T12:00:00Z
	// aws_access_key_id = ASIAIOSFODNN7EXAMPLE
	// aws_secret_access_key = wJalrXUtnFEMI/K7MDENG
	// aws_session_token = IQoJb3JpZ2luX2VjE
}

func ExampleExport_json() {
	c := creds.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG",
		SessionToken: "IQoJb3JpZ2luX2VjE", Expiration: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	out, _ := sinks.Export(c, "eu-west-1", "json", "")
	fmt.Print(string(out))
	// Output:
	// {"Version":1,"AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG","SessionToken":"IQoJb3JpZ2luX2VjE","Expiration":"2026-11-30T12:00:00Z"}
}
