package rotate

import (
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins/keyuri"
)

func TestCandidates(t *testing.T) {
	const mod = "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"pkcs11 label", "pkcs11:token=aws;object=prod" + mod,
			[]string{"pkcs11:token=aws;object=prod-r2" + mod, "pkcs11:token=aws;object=prod-r3" + mod}},
		{"pkcs11 label already rotated", "pkcs11:token=aws;object=prod-r9" + mod,
			[]string{"pkcs11:token=aws;object=prod-r10" + mod, "pkcs11:token=aws;object=prod-r11" + mod}},
		{"pkcs11 -r1 and -r02 are names, not rotations", "pkcs11:token=aws;object=a-r1",
			[]string{"pkcs11:token=aws;object=a-r1-r2", "pkcs11:token=aws;object=a-r1-r3"}},
		{"pkcs11 label and id", "pkcs11:token=aws;object=prod;id=%01%ff",
			[]string{"pkcs11:token=aws;object=prod-r2;id=%02%00", "pkcs11:token=aws;object=prod-r3;id=%02%01"}},
		{"pkcs11 id only wraps", "pkcs11:token=aws;id=%ff",
			[]string{"pkcs11:token=aws;id=%00", "pkcs11:token=aws;id=%01"}},
		{"tpm handle", "tpm:handle=0x81010002?pin-source=file:/p",
			[]string{"tpm:handle=0x81010003?pin-source=file:/p", "tpm:handle=0x81010004?pin-source=file:/p"}},
		{"tpm last handle wraps", "tpm:handle=0x81ffffff",
			[]string{"tpm:handle=0x81000000", "tpm:handle=0x81000001"}},
		{"tpm file", "tpm:file=/etc/awskeep/prod.tss2.pem",
			[]string{"tpm:file=/etc/awskeep/prod-r2.tss2.pem", "tpm:file=/etc/awskeep/prod-r3.tss2.pem"}},
		{"tpm file without extension", "tpm:file=keys/prod",
			[]string{"tpm:file=keys/prod-r2", "tpm:file=keys/prod-r3"}},
		{"yubihsm hex", "yubihsm:object-id=0x0010?connector=http://127.0.0.1:1&auth-key-id=1",
			[]string{"yubihsm:object-id=0x0011?connector=http://127.0.0.1:1&auth-key-id=1", "yubihsm:object-id=0x0012?connector=http://127.0.0.1:1&auth-key-id=1"}},
		{"vault key", "vault:key=prod?addr=https://vault.example:8200&mount=transit",
			[]string{"vault:key=prod-r2?addr=https://vault.example:8200&mount=transit", "vault:key=prod-r3?addr=https://vault.example:8200&mount=transit"}},
		{"tink keyset file", "tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://arn:aws:kms:us-east-1:1:key/k",
			[]string{"tink:file=/etc/awskeep/prod-r2.keyset.json?kek=aws-kms://arn:aws:kms:us-east-1:1:key/k", "tink:file=/etc/awskeep/prod-r3.keyset.json?kek=aws-kms://arn:aws:kms:us-east-1:1:key/k"}},
		{"yubihsm decimal wraps to 1", "yubihsm:object-id=65535",
			[]string{"yubihsm:object-id=1", "yubihsm:object-id=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := keyuri.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Candidates(u, len(tc.want))
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if g.String() != tc.want[i] {
					t.Errorf("candidate %d = %s, want %s", i, g, tc.want[i])
				}
				if _, err := keyuri.Parse(g.String()); err != nil {
					t.Errorf("candidate %d does not parse: %v", i, err)
				}
			}
			if u.String() != func() string { v, _ := keyuri.Parse(tc.in); return v.String() }() {
				t.Error("Candidates changed its argument")
			}
		})
	}
}

func TestCandidatesRefuse(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{"pkcs11:token=aws", "no object= or id="},
		{"example:name=prod", "cannot be rotated yet"},
	} {
		u, err := keyuri.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Candidates(u, 1); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Candidates(%s) = %v, want an error saying %q", tc.in, err, tc.says)
		}
	}
}

// FuzzCandidates: every candidate of a URI that parses also parses, differs from the URI,
// keeps its scheme and query, and the candidates are distinct.
func FuzzCandidates(f *testing.F) {
	for _, s := range []string{"pkcs11:token=aws;object=prod-r2", "pkcs11:id=%00%ff", "tpm:handle=0x81000000",
		"tpm:file=/a/b.c.d", "yubihsm:object-id=0x0001?auth-key-id=1", "pkcs11:object=a-r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := keyuri.Parse(s)
		if err != nil {
			return
		}
		got, err := Candidates(u, 3)
		if err != nil {
			return
		}
		seen := map[string]bool{u.String(): true}
		for _, g := range got {
			text := g.String()
			if seen[text] {
				t.Fatalf("candidate %q repeats (of %q)", text, u)
			}
			seen[text] = true
			back, err := keyuri.Parse(text)
			if err != nil {
				t.Fatalf("candidate %q of %q does not parse: %v", text, u, err)
			}
			if back.Scheme != u.Scheme || back.WithoutSecrets().String()[len(u.Scheme):] == "" {
				t.Fatalf("candidate %q of %q changed the scheme", text, u)
			}
		}
	})
}
