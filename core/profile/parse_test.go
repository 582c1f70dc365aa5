package profile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const fullConfig = `# awskeep test config
[default]
region = us-east-1

[profile prod-hsm]
region = eu-west-1
credential_process = awskeep credential-process --profile prod-hsm
awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
awskeep_access_key_id = AKIAIOSFODNN7EXAMPLE
awskeep_role_arn = arn:aws:iam::123456789012:role/deploy
awskeep_mfa_process = pass otp aws
role_session_name = alice
external_id = ext-123
mfa_serial = arn:aws:iam::123456789012:mfa/alice
duration_seconds = 3600
endpoint_url = http://127.0.0.1:5000
ca_bundle = /etc/ssl/moto.pem
services = local
source_profile = base
role_arn = arn:aws:iam::123456789012:role/client

[profile sso]
awskeep_source = saml
awskeep_saml_url = https://idp.example.com/saml
awskeep_saml_provider = arn:aws:iam::123456789012:saml-provider/idp
awskeep_saml_username = alice
awskeep_saml_password_source = env:IDP_PASSWORD
awskeep_saml_role_arn = arn:aws:iam::123456789012:role/saml
awskeep_conjur_url = https://conjur.example.com
awskeep_conjur_account = corp
awskeep_conjur_login = host/awskeep/laptop
awskeep_conjur_cert_file = /etc/conjur.pem
awskeep_conjur_api_key_source = keyring:conjur-api-key

[services local]
sts =
  endpoint_url = http://127.0.0.1:5001
s3 =
  endpoint_url = http://127.0.0.1:9000
`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		profile string
		want    Profile // compared field by field, unexported fields ignored
	}{
		{
			name:    "every setting",
			data:    fullConfig,
			profile: "prod-hsm",
			want: Profile{
				Name: "prod-hsm", File: "cfg", Source: "device",
				Key:               "pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin",
				AccessKeyID:       "AKIAIOSFODNN7EXAMPLE",
				RoleARN:           "arn:aws:iam::123456789012:role/deploy",
				MFAProcess:        "pass otp aws",
				Region:            "eu-west-1",
				RoleSessionName:   "alice",
				ExternalID:        "ext-123",
				MFASerial:         "arn:aws:iam::123456789012:mfa/alice",
				Duration:          time.Hour,
				EndpointURL:       "http://127.0.0.1:5000",
				STSEndpointURL:    "http://127.0.0.1:5001",
				CABundle:          "/etc/ssl/moto.pem",
				CredentialProcess: "awskeep credential-process --profile prod-hsm",
				SourceProfile:     "base",
				ClientRoleARN:     "arn:aws:iam::123456789012:role/client",
			},
		},
		{
			name:    "saml settings",
			data:    fullConfig,
			profile: "sso",
			want: Profile{Name: "sso", File: "cfg", Source: "saml", SAML: map[string]string{
				"url":             "https://idp.example.com/saml",
				"provider":        "arn:aws:iam::123456789012:saml-provider/idp",
				"username":        "alice",
				"password_source": "env:IDP_PASSWORD",
				"role_arn":        "arn:aws:iam::123456789012:role/saml",
			}, Conjur: map[string]string{
				"url":            "https://conjur.example.com",
				"account":        "corp",
				"login":          "host/awskeep/laptop",
				"cert_file":      "/etc/conjur.pem",
				"api_key_source": "keyring:conjur-api-key",
			}},
		},
		{
			name:    "default section",
			data:    fullConfig,
			profile: "default",
			want:    Profile{Name: "default", File: "cfg", Source: "device", Region: "us-east-1"},
		},
		{
			name:    "[default] wins over [profile default]",
			data:    "[profile default]\nregion = a\n[default]\nregion = b\n",
			profile: "default",
			want:    Profile{Name: "default", File: "cfg", Source: "device", Region: "b"},
		},
		{
			name:    "[profile default] alone",
			data:    "[profile default]\nregion = a\n",
			profile: "default",
			want:    Profile{Name: "default", File: "cfg", Source: "device", Region: "a"},
		},
		{
			name:    "spaces around the name",
			data:    "[profile  p ]\nregion = a\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: "a"},
		},
		{
			name:    "quoted name with a space",
			data:    "[profile \"my p\"]\nregion = a\n",
			profile: "my p",
			want:    Profile{Name: "my p", File: "cfg", Source: "device", Region: "a"},
		},
		{
			name:    "last of two sections for one profile",
			data:    "[profile p]\nregion = a\n[profile  p]\nregion = b\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: "b"},
		},
		{
			name:    "semicolons and hashes stay in values",
			data:    "[profile p]\nawskeep_key = pkcs11:token=aws;object=prod # not a comment\nregion = eu-west-1 ; neither\n",
			profile: "p",
			want: Profile{Name: "p", File: "cfg", Source: "device",
				Key: "pkcs11:token=aws;object=prod # not a comment", Region: "eu-west-1 ; neither"},
		},
		{
			name:    "comments, blank lines, CRLF, colon delimiter, trimming",
			data:    "; top\r\n[profile p]\r\n# comment\r\n  ; indented comment\r\n\r\nregion:  eu-west-1  \r\n\tawskeep_source =\tdevice\r\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: "eu-west-1"},
		},
		{
			name:    "keys are case-insensitive as in botocore",
			data:    "[profile p]\nRegion = eu-west-1\nAWSKEEP_KEY = pkcs11:object=x\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: "eu-west-1", Key: "pkcs11:object=x"},
		},
		{
			name:    "quotes are kept as in botocore",
			data:    "[profile p]\nregion = \"eu-west-1\"\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: `"eu-west-1"`},
		},
		{
			name:    "empty values count as absent",
			data:    "[profile p]\nregion =\nawskeep_source =   \nduration_seconds =\nawskeep_bogus =\nservices =\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device"},
		},
		{
			name:    "unknown non-awskeep keys are ignored",
			data:    "[profile p]\ns3 =\n  max_concurrent_requests = 20\ncli_pager =\noutput = json\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device"},
		},
		{
			name:    "services: last endpoint_url, comments and other services skipped",
			data:    "[profile p]\nservices = dev\n[services dev]\ns3 =\n  endpoint_url = http://s3\nsts =\n  # local moto\n  region = x\n  endpoint_url = http://a\n\n  endpoint_url = http://b\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", STSEndpointURL: "http://b"},
		},
		{
			name:    "an indented line after an empty value is nested, not a setting",
			data:    "[profile p]\nregion =\n  awskeep_bogus = 1\n\tduration_seconds = x\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device"},
		},
		{
			name:    "services without sts",
			data:    "[profile p]\nservices = dev\n[services dev]\ns3 =\n  endpoint_url = http://s3\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device"},
		},
		{
			name:    "backslash at the end is no continuation",
			data:    "[profile p]\nca_bundle = C:\\certs\\\nregion = eu-west-1\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", CABundle: `C:\certs\`, Region: "eu-west-1"},
		},
		{
			name:    "UTF-8 BOM",
			data:    "\xEF\xBB\xBF[profile p]\nregion = a\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device", Region: "a"},
		},
		{
			name:    "keys before any section are not in a profile",
			data:    "region = a\n[profile p]\n",
			profile: "p",
			want:    Profile{Name: "p", File: "cfg", Source: "device"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.data), "cfg", tt.profile)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got.section, got.header, got.lines = "", 0, nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		profile  string
		notFound bool
		line     int
		setting  string
		want     string // the whole Error() text
	}{
		{
			name: "missing profile lists names", data: fullConfig, profile: "nope", notFound: true,
			want: `cfg: no profile "nope" (profiles here: default, prod-hsm, sso)`,
		},
		{
			name: "empty file", data: "", profile: "p", notFound: true,
			want: `cfg: no profile "p" (no profiles in this file)`,
		},
		{
			name: "bare [P] hint", data: "[profile a]\n\n[p]\nregion = x\n", profile: "p", notFound: true, line: 3,
			want: `cfg:3: no profile "p": found [p]; in the config file a profile is written [profile p]`,
		},
		{
			name: "[profilep] is no profile", data: "[profilep]\n[profile a b]\n", profile: "p", notFound: true,
			want: `cfg: no profile "p" (no profiles in this file)`,
		},
		{
			name: "unknown awskeep key with did-you-mean", data: "[default]\n\n[profile p]\nregion = x\nawskeep_kye = pkcs11:object=x;pin-value=1234\n",
			profile: "p", line: 5, setting: "awskeep_kye",
			want: "cfg:5: unknown setting awskeep_kye in [profile p]; known: " + strings.Join(KnownSettings, ", ") + " (did you mean awskeep_key?)",
		},
		{
			name: "unknown awskeep key far from any", data: "[profile p]\nawskeep_colour = blue\n",
			profile: "p", line: 2, setting: "awskeep_colour",
			want: "cfg:2: unknown setting awskeep_colour in [profile p]; known: " + strings.Join(KnownSettings, ", "),
		},
		{
			name: "unknown key found in the second of two same sections", data: "[profile p]\nregion = a\n[profile b]\n[profile p]\n\nAwsKeep_Sorce = saml\n",
			profile: "p", line: 6, setting: "awskeep_sorce",
			want: "cfg:6: unknown setting awskeep_sorce in [profile p]; known: " + strings.Join(KnownSettings, ", ") + " (did you mean awskeep_source?)",
		},
		{
			name: "bad awskeep_source", data: "[profile p]\nawskeep_source = tpm\n", profile: "p", line: 2, setting: "awskeep_source",
			want: `cfg:2: awskeep_source "tpm" in [profile p]: must be device or saml`,
		},
		{
			name: "bad duration_seconds", data: "[profile p]\nregion = x\nduration_seconds = 1h\n", profile: "p", line: 3, setting: "duration_seconds",
			want: `cfg:3: duration_seconds "1h" in [profile p]: must be a positive whole number of seconds`,
		},
		{
			name: "awskeep_key is never echoed", data: "[profile p]\nawskeep_key = pkcs11:object=x?pin-value=1234\nduration_seconds = x\n", profile: "p", line: 3, setting: "duration_seconds",
			want: `cfg:3: duration_seconds "x" in [profile p]: must be a positive whole number of seconds`,
		},
		{
			name: "zero duration_seconds", data: "[profile p]\nduration_seconds = 0\n", profile: "p", line: 2, setting: "duration_seconds",
			want: `cfg:2: duration_seconds "0" in [profile p]: must be a positive whole number of seconds`,
		},
		{
			name: "negative duration_seconds", data: "[profile p]\nduration_seconds = -5\n", profile: "p", line: 2, setting: "duration_seconds",
			want: `cfg:2: duration_seconds "-5" in [profile p]: must be a positive whole number of seconds`,
		},
		{
			name: "huge duration_seconds", data: "[profile p]\nduration_seconds = 99999999999999999999\n", profile: "p", line: 2, setting: "duration_seconds",
			want: `cfg:2: duration_seconds "99999999999999999999" in [profile p]: must be a positive whole number of seconds`,
		},
		{
			name: "services section missing", data: "[profile p]\nregion = x\nservices = dev\n[services prod]\n", profile: "p", line: 3, setting: "services",
			want: `cfg:3: services "dev" in [profile p]: there is no [services dev] section in this file`,
		},
		{
			name: "sts with a value", data: "[profile p]\nservices = dev\n[services dev]\nsts = http://x\n", profile: "p", line: 4, setting: "services",
			want: `cfg:4: sts in [services dev]: leave it empty and put indented lines such as "  endpoint_url = URL" under it`,
		},
		{
			name: "sts nested line without =", data: "[profile p]\nservices = dev\n[services dev]\nsts =\n  endpoint_url = http://x\n  oops\n", profile: "p", line: 6, setting: "services",
			want: `cfg:6: sts in [services dev]: an indented line must read setting = value`,
		},
		{
			name: "malformed line", data: "[profile p]\nregion = x\njust words\n", profile: "p", line: 3,
			want: `cfg:3: not a valid config file: line is neither [section], comment nor key = value`,
		},
		{
			name: "unclosed section", data: "[profile p]\nregion = x\n[profile q\n", profile: "p", line: 3,
			want: `cfg:3: not a valid config file: section header without a closing ]`,
		},
		{
			name: "unclosed quoted value does not echo it", data: "[profile p]\nawskeep_key = \"\"\"pkcs11:object=x;pin-value=1234\nregion = x\n", profile: "p", line: 2,
			want: "cfg:2: not a valid config file: quoted value (\"\"\" or `) is not closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.data), "cfg", tt.profile)
			if err == nil {
				t.Fatalf("Parse returned %+v, want an error", p)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
			if e.Line != tt.line || e.Setting != tt.setting || e.File != "cfg" {
				t.Errorf("Error fields: file %q line %d setting %q, want cfg %d %q", e.File, e.Line, e.Setting, tt.line, tt.setting)
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
			if strings.Contains(err.Error(), "pin-value") {
				t.Errorf("error echoes a pin-value: %s", err)
			}
		})
	}
}

func TestNotFoundListIsCapped(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		b.WriteString("[profile p" + string(rune('a'+i)) + "]\n")
	}
	_, err := Parse([]byte(b.String()), "cfg", "x")
	if err == nil || !strings.HasSuffix(err.Error(), ", pt and 5 more)") {
		t.Errorf("error %v, want 20 names and \"and 5 more\"", err)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"full", fullConfig, []string{"default", "prod-hsm", "sso"}},
		{"order and duplicates", "[profile b]\n[profile default]\n[profile a]\n[default]\n[profile  b ]\n[c]\n[services b]\n[sso-session s]\n", []string{"b", "default", "a"}},
		{"none", "[c]\nx = y\n", nil},
		{"malformed", "[profile a]\nwords\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Names([]byte(tt.data)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Names = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWhereHas(t *testing.T) {
	data := "[default]\nregion = x\n\n[profile p]\n# c\nregion = eu-west-1\nawskeep_key = pkcs11:object=x\nrole_arn =\nCredential_Process = awskeep\n"
	p, err := Parse([]byte(data), "/home/a/.aws/config", "p")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		setting string
		where   string
		has     bool
	}{
		{"region", "/home/a/.aws/config:6", true},
		{"awskeep_key", "/home/a/.aws/config:7", true},
		{"credential_process", "/home/a/.aws/config:9", true},
		{"CREDENTIAL_PROCESS", "/home/a/.aws/config:9", true},
		{"role_arn", "/home/a/.aws/config:4", false}, // empty counts as absent
		{"duration_seconds", "/home/a/.aws/config:4", false},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			if got := p.Where(tt.setting); got != tt.where {
				t.Errorf("Where = %q, want %q", got, tt.where)
			}
			if got := p.Has(tt.setting); got != tt.has {
				t.Errorf("Has = %v, want %v", got, tt.has)
			}
		})
	}
	t.Run("no lines known", func(t *testing.T) {
		q := &Profile{File: "f"}
		if got := q.Where("region"); got != "f" {
			t.Errorf("Where = %q, want f", got)
		}
		var nilp *Profile
		if nilp.Where("x") != "" || nilp.Has("x") {
			t.Error("nil Profile: want empty Where and false Has")
		}
	})
}

func TestKnownSettings(t *testing.T) {
	for i := 1; i < len(KnownSettings); i++ {
		if KnownSettings[i-1] >= KnownSettings[i] {
			t.Errorf("KnownSettings not sorted at %q", KnownSettings[i])
		}
	}
	for _, k := range KnownSettings {
		data := "[profile p]\n" + k + " = device\n"
		if _, err := Parse([]byte(data), "cfg", "p"); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestShellSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"profile a", []string{"profile", "a"}, true},
		{"  profile \t a  ", []string{"profile", "a"}, true},
		{`profile "a b"`, []string{"profile", "a b"}, true},
		{`profile 'a"b'`, []string{"profile", `a"b`}, true},
		{`profile "a\"b\\c\d"`, []string{"profile", `a"b\c\d`}, true},
		{`profile a\ b`, []string{"profile", "a b"}, true},
		{`profile x"y"z`, []string{"profile", "xyz"}, true},
		{`profile ""`, []string{"profile", ""}, true},
		{`profile "a`, nil, false},
		{`profile a\`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ShellSplit(tt.in)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ShellSplit = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
