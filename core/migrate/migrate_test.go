package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/credfile"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// The lines of docs/migrating.md's "before" examples.
const (
	guidePKCS = `/path/to/aws-pkcs-process-credential --aws-arn="arn:aws:iam::123456789012:role/deployer" --aws-region=us-east-1 --aws-session-name=mysession --assumeRole=true --pkcs-uri="pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;slot=0;serial=e5cd05925f3a6d79;token=token1;object=HMACKey;id=0100?pin-value=mynewpin&module-path=/usr/lib/softhsm/libsofthsm2.so" --aws-access-key-id=AKIAIOSFODNN7EXAMPLE --duration=3600`
	guideTPM  = `/path/to/aws-tpm-process-credential --persistentHandle=0x81008003 --aws-arn="arn:aws:iam::123456789012:role/deployer" --assumeRole=true --aws-region=us-east-1 --aws-session-name=mysession --aws-access-key-id=AKIAIOSFODNN7EXAMPLE --duration=3600 --pcrs=23 --keyPass=changeme`
)

func settings(kv ...string) []credfile.Setting {
	var s []credfile.Setting
	for i := 0; i < len(kv); i += 2 {
		s = append(s, credfile.Setting{Key: kv[i], Value: kv[i+1]})
	}
	return s
}

func TestMap(t *testing.T) {
	opts := Options{Profile: "prod", PINFile: "/home/me/.config/awskeep/prod.pin", KeyDir: "/home/me/.config/awskeep"}
	tests := []struct {
		name, line string
		opts       Options
		wantKey    string
		wantPIN    string
		want       []credfile.Setting
	}{
		{
			name: "guide pkcs", line: guidePKCS, opts: opts, wantPIN: "mynewpin",
			wantKey: "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=e5cd05925f3a6d79;token=token1;object=aws-prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/home/me/.config/awskeep/prod.pin",
			want: settings("region", "us-east-1",
				"credential_process", "awskeep credential-process --profile prod",
				"awskeep_key", "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=e5cd05925f3a6d79;token=token1;object=aws-prod?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/home/me/.config/awskeep/prod.pin",
				"awskeep_access_key_id", "AKIAIOSFODNN7EXAMPLE",
				"awskeep_role_arn", "arn:aws:iam::123456789012:role/deployer",
				"role_session_name", "mysession",
				"duration_seconds", "3600"),
		},
		{
			name: "guide tpm", line: guideTPM, opts: Options{Profile: "laptop", PINFile: "/p/tpm.pw", KeyDir: "/k"}, wantPIN: "changeme",
			wantKey: "tpm:file=/k/laptop.tss2.pem?pcrs=sha256:23&pin-source=file:/p/tpm.pw",
			want: settings("region", "us-east-1",
				"credential_process", "awskeep credential-process --profile laptop",
				"awskeep_key", "tpm:file=/k/laptop.tss2.pem?pcrs=sha256:23&pin-source=file:/p/tpm.pw",
				"awskeep_access_key_id", "AKIAIOSFODNN7EXAMPLE",
				"awskeep_role_arn", "arn:aws:iam::123456789012:role/deployer",
				"role_session_name", "mysession",
				"duration_seconds", "3600"),
		},
		{
			name: "pkcs session token, spaced flags, single dash, no pin", opts: Options{Profile: "dev"},
			line:    `aws-pkcs-process-credential -pkcs-uri 'pkcs11:token=t;object=o?pin-source=file:/run/pin' --aws-access-key-id AKID --assumeRole=false`,
			wantKey: "pkcs11:token=t;object=aws-dev?pin-source=file:/run/pin",
			want: settings("credential_process", "awskeep credential-process --profile dev",
				"awskeep_key", "pkcs11:token=t;object=aws-dev?pin-source=file:/run/pin",
				"awskeep_access_key_id", "AKID"),
		},
		{
			name: "pkcs object already aws-PROFILE", opts: Options{Profile: "dev"},
			line:    `aws-pkcs-process-credential --pkcs-uri=pkcs11:token=t;object=aws-dev --aws-access-key-id=AKID`,
			wantKey: "pkcs11:token=t;object=aws-dev-migrated",
		},
		{
			name: "tpm simulator, timeout, bare assumeRole, dropped flags", opts: Options{Profile: "sim", KeyDir: "/k"},
			line:    `/opt/bin/aws-tpm-process-credential --tpm-path=127.0.0.1:2321 --timeout 2 --assumeRole --aws-arn arn:aws:iam::1:role/r --aws-access-key-id=AKID --parentPass=pp --useEKParent --tpm-session-encrypt-with-name=000b --credential-file=/x --pcrs=7,23`,
			wantKey: "tpm:file=/k/sim.tss2.pem?device=tcp://127.0.0.1:2321&pcrs=sha256:7,23",
			want: settings("credential_process", "awskeep credential-process --profile sim --timeout 2s",
				"awskeep_key", "tpm:file=/k/sim.tss2.pem?device=tcp://127.0.0.1:2321&pcrs=sha256:7,23",
				"awskeep_access_key_id", "AKID",
				"awskeep_role_arn", "arn:aws:iam::1:role/r"),
		},
		{
			name: "profile name with a space", opts: Options{Profile: "my prod"},
			line:    `aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --aws-access-key-id=AKID`,
			wantKey: "pkcs11:object=aws-my%20prod",
			want: settings("credential_process", "awskeep credential-process --profile 'my prod'",
				"awskeep_key", "pkcs11:object=aws-my%20prod", "awskeep_access_key_id", "AKID"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			m, err := Map(c, tt.opts)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if m.Key != tt.wantKey {
				t.Errorf("Key = %s\nwant  %s", m.Key, tt.wantKey)
			}
			if m.PIN != tt.wantPIN {
				t.Errorf("PIN = %q, want %q", m.PIN, tt.wantPIN)
			}
			if tt.want != nil && !equal(m.Settings, tt.want) {
				t.Errorf("Settings = %q\nwant %q", m.Settings, tt.want)
			}
		})
	}
}

func equal(a, b []credfile.Setting) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRefuses(t *testing.T) {
	const akid = " --aws-access-key-id=AKID"
	tests := []struct {
		name, line string
		noPINFile  bool
		want       error
		says       string
	}{
		{"already awskeep", "awskeep credential-process --profile p", false, ErrNotTool, "already runs awskeep"},
		{"another program", "/usr/bin/aws-vault exec p --json", false, ErrNotTool, `"aws-vault"`},
		{"empty", "  ", false, ErrNotTool, "empty"},
		{"unclosed quote", `aws-pkcs-process-credential --pkcs-uri="pkcs11:`, false, ErrNotTool, "unclosed"},
		{"unknown flag", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --frobnicate=secretvalue" + akid, false, ErrUnknownFlag, "--frobnicate"},
		{"tpm flag on pkcs", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --keyPass=hunter2" + akid, false, ErrUnknownFlag, "--keyPass"},
		{"positional", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x extra" + akid, false, ErrUnknownFlag, "not a flag"},
		{"twice", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --pkcs-uri=pkcs11:object=y" + akid, false, ErrUnknownFlag, "twice"},
		{"version", "aws-tpm-process-credential --version" + akid, false, ErrUnknownFlag, "--version"},
		{"no value", "aws-pkcs-process-credential --pkcs-uri", false, ErrBadValue, "no value"},
		{"no uri", "aws-pkcs-process-credential" + akid, false, ErrBadValue, "--pkcs-uri"},
		{"not pkcs11", "aws-pkcs-process-credential --pkcs-uri=tpm:handle=0x81000000" + akid, false, ErrBadValue, "pkcs11"},
		{"bad uri", "aws-pkcs-process-credential --pkcs-uri=pkcs11:bogus=1" + akid, false, ErrBadValue, "bogus"},
		{"no akid", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x", false, ErrBadValue, "--aws-access-key-id"},
		{"arn without assume", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --aws-arn=a" + akid, false, ErrBadValue, "--assumeRole=true"},
		{"assume without arn", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --assumeRole=true" + akid, false, ErrBadValue, "--aws-arn"},
		{"bad assume", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --assumeRole=maybe" + akid, false, ErrBadValue, "--assumeRole"},
		{"bad duration", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x --duration=1.5s" + akid, false, ErrBadValue, "--duration"},
		{"pin without file", "aws-pkcs-process-credential --pkcs-uri=pkcs11:object=x?pin-value=hunter2" + akid, true, ErrNeedPINFile, "pin-value"},
		{"keyPass without file", "aws-tpm-process-credential --keyPass=hunter2" + akid, true, ErrNeedPINFile, "--keyPass"},
		{"bad pcrs", "aws-tpm-process-credential --pcrs=sha1:7" + akid, false, ErrBadValue, "--pcrs"},
		{"bad tpm path", "aws-tpm-process-credential --tpm-path=tpm0" + akid, false, ErrBadValue, "--tpm-path"},
		{"bad timeout", "aws-tpm-process-credential --timeout=soon" + akid, false, ErrBadValue, "--timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Profile: "p", KeyDir: "/k", PINFile: "/p/pin"}
			if tt.noPINFile {
				o.PINFile = ""
			}
			c, err := Parse(tt.line)
			if err == nil {
				_, err = Map(c, o)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %q, does not say %q", err, tt.says)
			}
			for _, secret := range []string{"hunter2", "secretvalue"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err holds a value: %q", err)
				}
			}
		})
	}
}

// FuzzParse: Parse and Map never panic, and what they accept is a key URI that
// keyuri.Parse accepts and that holds no pin-value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{guidePKCS, guideTPM,
		`aws-pkcs-process-credential -pkcs-uri 'pkcs11:token=t;object=o' --aws-access-key-id AKID`,
		`aws-tpm-process-credential --tpm-path=127.0.0.1:2321 --timeout 2 --aws-access-key-id=A --keyPass "a\"b"`,
	} {
		f.Add(s, "prod")
	}
	f.Fuzz(func(t *testing.T, line, prof string) {
		c, err := Parse(line)
		if err != nil {
			return
		}
		m, err := Map(c, Options{Profile: prof, PINFile: "/run/awskeep/pin", KeyDir: "/k"})
		if err != nil {
			return
		}
		u, err := keyuri.Parse(m.Key)
		if err != nil {
			t.Fatalf("Map gave key %q that keyuri.Parse refuses: %v", m.Key, err)
		}
		if _, ok := u.QueryAttr(keyuri.PINValue); ok {
			t.Fatalf("key %q holds a pin-value", m.Key)
		}
		for _, s := range m.Settings {
			if s.Value == "" || s.Value != strings.TrimSpace(s.Value) {
				t.Fatalf("setting %s has value %q", s.Key, s.Value)
			}
		}
	})
}
