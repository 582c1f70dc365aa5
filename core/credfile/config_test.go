package credfile

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const configBefore = "# my config\n[default]\nregion = eu-west-1\n\n[profile prod]\nregion = eu-west-1 ; kept\n" +
	"credential_process = awskeep credential-process --profile prod\n" +
	"awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/pin\n" +
	"# the key's id\nAWSKEEP_ACCESS_KEY_ID = AKIAOLD0000000000000\n\n[profile other]\nawskeep_access_key_id = AKIAOTHER00000000000\n"

func TestUpdateConfig(t *testing.T) {
	rotated := []Setting{
		{"awskeep_key", "pkcs11:token=aws;object=prod-r2?pin-source=file:/run/pin"},
		{"awskeep_access_key_id", "AKIANEW0000000000000"},
	}
	for _, tc := range []struct {
		name, profile, in, want string
		perm                    fs.FileMode
	}{
		{
			name: "profile section, every other byte kept, mode 0644 kept", profile: "prod", in: configBefore, perm: 0o644,
			want: strings.NewReplacer("object=prod?", "object=prod-r2?",
				"AWSKEEP_ACCESS_KEY_ID = AKIAOLD0000000000000", "awskeep_access_key_id = AKIANEW0000000000000").Replace(configBefore),
		},
		{
			name: "a setting not yet there goes after the last key", profile: "other", in: configBefore, perm: 0o600,
			want: strings.Replace(configBefore, "awskeep_access_key_id = AKIAOTHER00000000000\n",
				"awskeep_access_key_id = AKIANEW0000000000000\nawskeep_key = pkcs11:token=aws;object=prod-r2?pin-source=file:/run/pin\n", 1),
		},
		{
			name: "[default] is the default profile", profile: "default", perm: 0o600,
			in:   "[default]\nregion = x\r\n",
			want: "[default]\nregion = x\r\nawskeep_key = pkcs11:token=aws;object=prod-r2?pin-source=file:/run/pin\nawskeep_access_key_id = AKIANEW0000000000000\n",
		},
		{
			name: "[profile default] too", profile: "default", perm: 0o600,
			in:   "[profile default]\nawskeep_access_key_id = AKIAOLD0000000000000",
			want: "[profile default]\nawskeep_access_key_id = AKIANEW0000000000000\nawskeep_key = pkcs11:token=aws;object=prod-r2?pin-source=file:/run/pin",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			writeFile(t, path, tc.in, tc.perm)
			if err := UpdateConfig(path, tc.profile, rotated); err != nil {
				t.Fatal(err)
			}
			if got := readString(t, path); got != tc.want {
				t.Fatalf("file =\n%q\nwant\n%q", got, tc.want)
			}
			if got := permOf(t, path); got != tc.perm {
				t.Fatalf("mode %04o, want %04o", got, tc.perm)
			}
		})
	}
}

func TestUpdateConfigRefuses(t *testing.T) {
	good := []Setting{{"awskeep_access_key_id", "AKIANEW0000000000000"}}
	for _, tc := range []struct {
		name, profile, in string
		perm              fs.FileMode
		settings          []Setting
		want              error
		says              string
	}{
		{"missing profile", "nope", configBefore, 0o600, good, ErrNoSection, "[profile nope]"},
		{"a credentials-style section is not a profile", "prod", "[prod]\nx = 1\n", 0o600, good, ErrNoSection, "[profile prod]"},
		{"writable by the group", "prod", configBefore, 0o664, good, ErrInsecureFile, "chmod go-w"},
		{"a line break in a value", "prod", configBefore, 0o600, []Setting{{"awskeep_key", "a\n[profile evil]"}}, nil, "line break"},
		{"an odd setting name", "prod", configBefore, 0o600, []Setting{{"awskeep key", "x"}}, ErrInvalidName, "setting name"},
		{"two default profiles", "default", "[default]\n[profile default]\n", 0o600, good, nil, "both as [default] and [profile default]"},
		{"a duplicated profile", "prod", "[profile prod]\n[profile prod]\n", 0o600, good, nil, "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			writeFile(t, path, tc.in, tc.perm)
			err := UpdateConfig(path, tc.profile, tc.settings)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not say %q", err, tc.says)
			}
			if got := readString(t, path); got != tc.in {
				t.Fatalf("the file changed:\n%q", got)
			}
		})
	}
	if err := UpdateConfig(filepath.Join(t.TempDir(), "absent"), "prod", good); !errors.Is(err, ErrNoSection) {
		t.Fatalf("absent file: %v, want ErrNoSection", err)
	}
}

// FuzzUpdateConfig: on any config file and profile name, UpdateConfig either refuses and
// leaves the file as it was, or the profile's section (found as [profile NAME], or
// [default] for the default profile) holds the new values, read back by the independent
// reader of FuzzUpdate, and every other section is as it was. It never adds a section.
func FuzzUpdateConfig(f *testing.F) {
	f.Add([]byte(configBefore), "prod")
	f.Add([]byte(configBefore), "default")
	f.Add([]byte("[profile prod]\nawskeep_key = a\n  continued\n[profile prod-r2]\n"), "prod")
	f.Add([]byte("[prod]\n"), "prod")
	f.Fuzz(func(t *testing.T, in []byte, name string) {
		path := filepath.Join(t.TempDir(), "config")
		writeFile(t, path, string(in), 0o600)
		settings := []Setting{{"awskeep_key", "pkcs11:object=prod-r2"}, {"awskeep_access_key_id", "AKIANEW0000000000000"}}
		err := UpdateConfig(path, name, settings)
		out := readString(t, path)
		if err != nil {
			if out != string(in) {
				t.Fatalf("refused (%v) but changed the file", err)
			}
			return
		}
		section := "profile " + name
		if name == "default" {
			if _, n := referenceRead([]byte(out), "default"); n == 1 {
				section = "default"
			}
		}
		values, count := referenceRead([]byte(out), section)
		if count != 1 {
			t.Fatalf("[%s] appears %d times after the edit:\n%q", section, count, out)
		}
		if _, n := referenceRead(in, section); n != 1 {
			t.Fatalf("UpdateConfig wrote [%s], which the file did not have once:\n%q", section, in)
		}
		for _, s := range settings {
			if values[s.Key] != s.Value {
				t.Fatalf("%s = %q, want %q:\n%q", s.Key, values[s.Key], s.Value, out)
			}
		}
		if got, want := referenceOthers([]byte(out), section), referenceOthers(in, section); got != want {
			t.Fatalf("other sections changed:\n in %q\nout %q", want, got)
		}
	})
}

func TestConfigSection(t *testing.T) {
	in := "# top\n[default]\nregion = x\n\n[profile prod]\n# c\nawskeep_key = old\nregion = y\n\n[profile other]\nk = v\n"
	settings := []Setting{{"awskeep_key", "new"}, {"role_session_name", "s"}}
	got, err := ConfigSection([]byte(in), "prod", settings)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[profile prod]\n# c\nawskeep_key = new\nregion = y\nrole_session_name = s\n"; string(got) != want {
		t.Fatalf("section =\n%q\nwant\n%q", got, want)
	}
	got, err = ConfigSection([]byte(in), "other", settings)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[profile other]\nk = v\nawskeep_key = new\nrole_session_name = s\n"; string(got) != want {
		t.Fatalf("last section =\n%q\nwant\n%q", got, want)
	}
	if _, err := ConfigSection([]byte(in), "nope", settings); !errors.Is(err, ErrNoSection) {
		t.Fatalf("missing profile: err = %v, want ErrNoSection", err)
	}
	if _, err := ConfigSection([]byte(in), "prod", []Setting{{"Bad", "x"}}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad key: err = %v, want ErrInvalidName", err)
	}
}
