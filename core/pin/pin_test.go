package pin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/core/pin"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

func writePIN(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveOrder(t *testing.T) {
	file := writePIN(t, "from-file\n", 0o600)
	env := func(v string) func(*pin.Options) {
		return func(o *pin.Options) {
			o.Getenv = func(string) string { return v }
			o.Prompter = answer{"from-terminal"}
		}
	}
	tests := []struct {
		name, uri, env, want string
	}{
		{"pin-source file URI wins", "pkcs11:object=a?pin-source=file:" + file, "from-env", "from-file"},
		{"pin-source path", "pkcs11:object=a?pin-source=" + file, "", "from-file"},
		{"pin-value next", "pkcs11:object=a?pin-value=from-uri", "from-env", "from-uri"},
		{"environment next", "pkcs11:object=a", "from-env", "from-env"},
		{"terminal last", "pkcs11:object=a", "", "from-terminal"},
		{"empty pin-value means no PIN", "pkcs11:object=a?pin-value=", "from-env", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := keyuri.Parse(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pin.Resolve(context.Background(), u, env(tt.env))
			if err != nil || got != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFromSourceErrors(t *testing.T) {
	loose := writePIN(t, "s3cr3t", 0o644)
	empty := writePIN(t, "\n", 0o600)
	big := writePIN(t, strings.Repeat("x", 5000), 0o600)
	tests := []struct{ name, src, want string }{
		{"missing", "/nonexistent/pin", "does not exist"},
		{"loose permissions", loose, "chmod 600"},
		{"empty", empty, "is empty"},
		{"too big", big, "larger than"},
		{"directory", t.TempDir(), "not a regular file"},
		{"other scheme", "env:PIN", "only files"},
		{"remote file", "file://host/pin", "want file:/path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pin.FromSource(tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FromSource(%q) = %v, want %q", tt.src, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatal("error leaks the PIN")
			}
		})
	}
}

// answer is a Prompter that answers every question with its value.
type answer struct{ value string }

func (a answer) Secret(context.Context, string) (string, error) { return a.value, nil }
func (a answer) Line(context.Context, string) (string, error)   { return a.value, nil }
func (a answer) Choose(context.Context, string, []string) (int, error) {
	return 0, nil
}

// noTerminal is a Prompter of a process without a controlling terminal.
type noTerminal struct{}

func (noTerminal) Secret(context.Context, string) (string, error) { return "", prompt.ErrNoTerminal }
func (noTerminal) Line(context.Context, string) (string, error)   { return "", prompt.ErrNoTerminal }
func (noTerminal) Choose(context.Context, string, []string) (int, error) {
	return -1, prompt.ErrNoTerminal
}

func TestResolveWithoutTerminalNamesTheSettings(t *testing.T) {
	u, err := keyuri.Parse("pkcs11:token=aws;object=a")
	if err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	for name, fn := range map[string]func(*pin.Options){
		"no terminal": func(o *pin.Options) { o.Getenv = none; o.Prompter = noTerminal{} },
		"NoPrompt":    func(o *pin.Options) { o.Getenv = none; o.Prompter = answer{"x"}; o.NoPrompt = true },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pin.Resolve(context.Background(), u, fn)
			if !errors.Is(err, prompt.ErrNoTerminal) {
				t.Fatalf("err = %v, want ErrNoTerminal", err)
			}
			for _, want := range []string{"pin-source", "$AWSKEEP_PIN", "PIN for pkcs11:token=aws;object=a"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
	_, err = pin.Resolve(context.Background(), u, func(o *pin.Options) { o.Getenv = none; o.Prompter = answer{""} })
	if err == nil || !strings.Contains(err.Error(), "pin-value=") {
		t.Fatalf("an empty typed PIN: err = %v", err)
	}
}
