package backend

import (
	"errors"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// FuzzParseKey: parseKey never panics, fails only with ErrInvalidKeyURI, and what it
// accepts names a safe path (no "..", no separators in the key name) and round-trips
// through keyuri.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		"vault:key=prod",
		"vault:key=prod?addr=https://vault.example:8200&mount=transit&namespace=team-a",
		"vault:key=k?auth=approle&role-id=abc&auth-mount=ci",
		"vault:key=..?mount=../sys",
		"vault:key=a%2Fb?addr=http://[::1]:8200",
		"vault:key=k?pin-source=file:/run/pin",
	} {
		f.Add(s, "")
	}
	f.Add("vault:key=k", "http://127.0.0.1:8200")
	f.Fuzz(func(t *testing.T, raw, vaultAddr string) {
		ref, err := parseKey(raw, env(map[string]string{"VAULT_ADDR": vaultAddr}))
		if err != nil {
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) = %v, not ErrInvalidKeyURI", raw, err)
			}
			return
		}
		if checkName("key", ref.name) != nil {
			t.Fatalf("accepted key name %q", ref.name)
		}
		for _, p := range []string{ref.mount, ref.authMount, ref.namespace} {
			for _, seg := range strings.Split(p, "/") {
				if seg == ".." || seg == "." {
					t.Fatalf("accepted path %q", p)
				}
			}
		}
		if !strings.HasPrefix(ref.addr, "http://") && !strings.HasPrefix(ref.addr, "https://") {
			t.Fatalf("accepted addr %q", ref.addr)
		}
		u, err := keyuri.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseKey(u.String(), env(map[string]string{"VAULT_ADDR": vaultAddr}))
		if err != nil || again != ref {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", u.String(), again, err, ref)
		}
	})
}

// FuzzDecodeResponse: Vault's answers, however malformed, decode without panicking; an
// accepted key description and HMAC answer are well formed.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(`{"data":{"name":"k","type":"hmac","exportable":false,"allow_plaintext_backup":false,"latest_version":1,"keys":{"1":1700000000}}}`))
	f.Add(200, []byte(`{"data":{"hmac":"vault:v1:NTxS/nmd2A8cSgH2nkhw8kOCsOZdwKbrUoSPIiCbN1M="}}`))
	f.Add(200, []byte(`{"auth":{"client_token":"hvs.x","lease_duration":3600}}`))
	f.Add(403, []byte(`{"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]}`))
	f.Add(503, []byte(`{"errors":["Vault is sealed"]}`))
	f.Add(400, []byte(`{"errors":["encryption key not found"]}`))
	f.Add(404, []byte(`{"errors":[]}`))
	f.Add(200, []byte(`{"data":null}`))
	f.Add(204, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		var info keyInfo
		if err := decodeResponse(status, body, &info, nil); err == nil {
			d := describe(keyRef{name: "k", mount: "transit", addr: DefaultAddr}, &info)
			if d.Sensitive == d.Extractable {
				t.Fatalf("Sensitive %v and Extractable %v", d.Sensitive, d.Extractable)
			}
			if (info.Type == "hmac") != (d.Algorithm == plugins.AlgorithmHMACSHA256) {
				t.Fatalf("type %q described as %q", info.Type, d.Algorithm)
			}
		} else {
			_ = translate("hmac", keyRef{name: "k", mount: "transit"}, err).Error()
		}
		var out struct {
			HMAC string `json:"hmac"`
		}
		if decodeResponse(status, body, &out, nil) == nil {
			if tag, err := parseHMAC(out.HMAC); err == nil && len(tag) != 32 {
				t.Fatalf("parseHMAC accepted %d bytes", len(tag))
			}
		}
		var auth *authInfo
		if decodeResponse(status, body, nil, &auth) == nil && (auth == nil || auth.ClientToken == "") {
			t.Fatal("login answer accepted without a token")
		}
	})
}
