package backend

import (
	"errors"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseKey(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		env  map[string]string
		want keyRef
	}{
		{"defaults", "vault:key=prod", nil,
			keyRef{name: "prod", addr: DefaultAddr, mount: "transit", authMount: "approle"}},
		{"everything", "vault:key=prod?addr=https://vault.example:8200/&mount=/kv/transit2/&namespace=team-a/ns", nil,
			keyRef{name: "prod", addr: "https://vault.example:8200", mount: "kv/transit2", namespace: "team-a/ns", authMount: "approle"}},
		{"environment", "vault:key=a.b_c-d", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_NAMESPACE": "ns1"},
			keyRef{name: "a.b_c-d", addr: "http://127.0.0.1:8200", mount: "transit", namespace: "ns1", authMount: "approle"}},
		{"URI beats environment", "vault:key=k?addr=https://v:1", map[string]string{"VAULT_ADDR": "http://other:2"},
			keyRef{name: "k", addr: "https://v:1", mount: "transit", authMount: "approle"}},
		{"approle", "vault:key=k?auth=approle&role-id=1234-abcd&auth-mount=ci-approle", nil,
			keyRef{name: "k", addr: DefaultAddr, mount: "transit", roleID: "1234-abcd", authMount: "ci-approle"}},
		{"token auth named", "vault:key=k?auth=token", nil,
			keyRef{name: "k", addr: DefaultAddr, mount: "transit", authMount: "approle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKey(tt.uri, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("parseKey(%q) = %+v, want %+v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		env  map[string]string
	}{
		{"other scheme", "pkcs11:object=prod", nil},
		{"no key", "vault:?addr=https://v:1", nil},
		{"empty key", "vault:key=", nil},
		{"dot dot", "vault:key=..", nil},
		{"slash in key", "vault:key=a/b", nil},
		{"unknown path attribute", "vault:key=a;name=b", nil},
		{"unknown query attribute", "vault:key=a?adress=https://v", nil},
		{"addr not a URL", "vault:key=a?addr=vault.example:8200", nil},
		{"addr ftp", "vault:key=a?addr=ftp://v", nil},
		{"addr with path", "vault:key=a?addr=https://v/ui", nil},
		{"addr with user", "vault:key=a?addr=https://u@v", nil},
		{"bad VAULT_ADDR", "vault:key=a", map[string]string{"VAULT_ADDR": "v:8200"}},
		{"mount climbs", "vault:key=a?mount=../sys", nil},
		{"mount empty segment", "vault:key=a?mount=a//b", nil},
		{"bad VAULT_NAMESPACE", "vault:key=a", map[string]string{"VAULT_NAMESPACE": "a/../b"}},
		{"unknown auth", "vault:key=a?auth=ldap", nil},
		{"approle without role", "vault:key=a?auth=approle", nil},
		{"role without approle", "vault:key=a?role-id=x", nil},
		{"auth-mount without approle", "vault:key=a?auth-mount=x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKey(tt.uri, env(tt.env))
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) = %v, want ErrInvalidKeyURI", tt.uri, err)
			}
		})
	}
}
