package profile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config")
	if err := os.WriteFile(good, []byte(fullConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte("[profile p]\n"+strings.Repeat("# padding\n", maxFileSize/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	justRight := filepath.Join(dir, "just-right")
	body := "[profile p]\nregion = x\n"
	if err := os.WriteFile(justRight, []byte(body+strings.Repeat("#", maxFileSize-len(body))), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name     string
		path     string
		profile  string
		notFound bool
		wantErr  string // substring; "" for success
	}{
		{name: "reads a profile", path: good, profile: "prod-hsm"},
		{name: "exactly 1 MiB", path: justRight, profile: "p"},
		{name: "missing file", path: missing, profile: "p", notFound: true,
			wantErr: missing + ": does not exist: create it or set AWS_CONFIG_FILE"},
		{name: "missing profile", path: good, profile: "nope", notFound: true, wantErr: `no profile "nope"`},
		{name: "too large", path: big, profile: "p", wantErr: big + ": larger than 1 MiB"},
		{name: "a directory", path: dir, profile: "p", wantErr: dir + ": cannot read: "},
		{name: "no path", path: "", profile: "p", wantErr: "no config file path given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.path, tt.profile)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if p.File != tt.path || p.Name != tt.profile {
					t.Errorf("File, Name = %q, %q", p.File, p.Name)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load returned %+v, want error %q", p, tt.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T, want *Error", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("[default]\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "default")
	if os.Geteuid() == 0 {
		// Root reads a mode-000 file; all that can be checked is that Load does.
		t.Log("running as root: permission denied cannot be provoked")
		if err != nil {
			t.Fatalf("Load as root: %v", err)
		}
		return
	}
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrNotFound) {
		t.Errorf("error %v: want it to wrap fs.ErrPermission and not ErrNotFound", err)
	}
	if want := path + ": cannot read: permission denied"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "HOME", env: map[string]string{"HOME": "/home/a"}, want: "/home/a/.aws/config"},
		{name: "AWS_CONFIG_FILE wins", env: map[string]string{"HOME": "/home/a", "AWS_CONFIG_FILE": "/etc/aws/config"}, want: "/etc/aws/config"},
		{name: "AWS_CONFIG_FILE without HOME", env: map[string]string{"AWS_CONFIG_FILE": "/etc/aws/config"}, want: "/etc/aws/config"},
		{name: "relative AWS_CONFIG_FILE", env: map[string]string{"AWS_CONFIG_FILE": "cfg"}, want: "cfg"},
		{name: "~ expanded", env: map[string]string{"HOME": "/home/a", "AWS_CONFIG_FILE": "~/aws/cfg"}, want: "/home/a/aws/cfg"},
		{name: "~user left alone", env: map[string]string{"HOME": "/home/a", "AWS_CONFIG_FILE": "~bob/cfg"}, want: "~bob/cfg"},
		{name: "~ without HOME", env: map[string]string{"AWS_CONFIG_FILE": "~/cfg"}, wantErr: "HOME is not set"},
		{name: "nothing", env: map[string]string{}, wantErr: "neither AWS_CONFIG_FILE nor HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPath(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DefaultPath = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DefaultPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
