package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/fastpath"
)

// TestSettingsReadOnlyFingerprintedVariables keeps the front honest: an answer is right only
// if the inputs cover everything the settings come from (core/fastpath), so resolving the
// settings of a routable credential-process, and its cache key, may read no environment
// variable outside fastpath.EnvNames. KRB5CCNAME, KRB5_CONFIG and KRB5_CLIENT_KTNAME, read
// for a kerberos SAML profile's key, are allowed because such a profile never gets an answer (rememberAnswer).
func TestSettingsReadOnlyFingerprintedVariables(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(home, "config")
	profiles := map[string]string{
		"device": "[profile device]\nawskeep_key = pkcs11:token=a;object=b?pin-source=file:/p\nawskeep_access_key_id = AKIAIOSFODNN7EXAMPLE\n" +
			"awskeep_role_arn = arn:aws:iam::123456789012:role/r\nmfa_serial = arn:aws:iam::123456789012:mfa/u\nduration_seconds = 3600\n",
		"device-defaults": "[profile device-defaults]\nawskeep_key = tpm:handle=0x81010002\nawskeep_access_key_id = AKIAIOSFODNN7EXAMPLE\n" +
			"services = s\n[services s]\nsts =\n  endpoint_url = http://127.0.0.1:1\n",
		"okta": "[profile okta]\nawskeep_source = saml\nawskeep_saml_url = https://idp.example.com/app\nawskeep_saml_provider = okta\n" +
			"awskeep_saml_username = alice\nawskeep_saml_password_source = conjur:prod/okta\n",
		"krb": "[profile krb]\nawskeep_source = saml\nawskeep_saml_url = https://idp.example.com/wia\nawskeep_saml_provider = kerberos\n",
	}
	var all []string
	for _, p := range profiles {
		all = append(all, p)
	}
	if err := os.WriteFile(config, []byte(strings.Join(all, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	allowed := append([]string{"KRB5CCNAME", "KRB5_CONFIG", "KRB5_CLIENT_KTNAME"}, fastpath.EnvNames...)
	for name := range profiles {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			read := map[string]bool{}
			values := map[string]string{"HOME": home, "AWS_CONFIG_FILE": config}
			e := &env{getenv: func(k string) string {
				mu.Lock()
				defer mu.Unlock()
				read[k] = true
				return values[k]
			}}
			f := credentialFlags{profile: name}
			s, err := f.resolve(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := engine.CacheKeyFor(s, e.getenv); err != nil {
				t.Fatal(err)
			}
			var outside []string
			for k := range read {
				if !slices.Contains(allowed, k) {
					outside = append(outside, k)
				}
			}
			sort.Strings(outside)
			if len(outside) > 0 {
				t.Fatalf("resolving the settings read %v, which the front's fingerprint does not cover: add them to fastpath.EnvNames", outside)
			}
			if !read["AWS_CONFIG_FILE"] {
				t.Fatal("the recording saw nothing: the test no longer watches the settings' reads")
			}
		})
	}
}
