package backend

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

const testARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestParseKey(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want keyRef
	}{
		{"minimal", "tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://" + testARN,
			keyRef{file: "/etc/awskeep/prod.keyset.json", kek: "aws-kms://" + testARN, keyID: testARN, region: "eu-west-1"}},
		{"everything", "tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://" + testARN +
			"&kms-endpoint=https://kms.eu-west-1.amazonaws.com/&region=eu-west-1&profile=kms-admin",
			keyRef{file: "/etc/awskeep/prod.keyset.json", kek: "aws-kms://" + testARN, keyID: testARN, region: "eu-west-1",
				endpoint: "https://kms.eu-west-1.amazonaws.com", profile: "kms-admin"}},
		{"alias, loopback http, escaped path", "tink:file=/srv/my%20keys/../k.json?kek=aws-kms://arn:aws-cn:kms:cn-north-1:111122223333:alias/awskeep" +
			"&kms-endpoint=http://127.0.0.1:5000",
			keyRef{file: "/srv/k.json", kek: "aws-kms://arn:aws-cn:kms:cn-north-1:111122223333:alias/awskeep",
				keyID: "arn:aws-cn:kms:cn-north-1:111122223333:alias/awskeep", region: "cn-north-1", endpoint: "http://127.0.0.1:5000"}},
		{"pin attributes are the host's", "tink:file=/k.json?kek=aws-kms://" + testARN + "&pin-value=",
			keyRef{file: "/k.json", kek: "aws-kms://" + testARN, keyID: testARN, region: "eu-west-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKey(tc.uri)
			if err != nil || got != tc.want {
				t.Fatalf("parseKey = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	kek := "kek=aws-kms://" + testARN
	for name, uri := range map[string]string{
		"other scheme":           "pkcs11:object=x",
		"no file":                "tink:?" + kek,
		"empty file":             "tink:file=?" + kek,
		"relative file":          "tink:file=prod.json?" + kek,
		"directory":              "tink:file=/etc/awskeep/?" + kek,
		"no kek":                 "tink:file=/k.json",
		"kek of another KMS":     "tink:file=/k.json?kek=gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
		"kek not an ARN":         "tink:file=/k.json?kek=aws-kms://1234abcd-12ab-34cd-56ef-1234567890ab",
		"kek of another service": "tink:file=/k.json?kek=aws-kms://arn:aws:s3:eu-west-1:111122223333:key/x",
		"region differs":         "tink:file=/k.json?" + kek + "&region=us-east-1",
		"http endpoint":          "tink:file=/k.json?" + kek + "&kms-endpoint=http://kms.example.com",
		"endpoint not a URL":     "tink:file=/k.json?" + kek + "&kms-endpoint=kms.example.com",
		"endpoint with path":     "tink:file=/k.json?" + kek + "&kms-endpoint=https://kms.example.com/x",
		"endpoint with user":     "tink:file=/k.json?" + kek + "&kms-endpoint=https://u:p@kms.example.com",
		"empty profile":          "tink:file=/k.json?" + kek + "&profile=",
		"profile with space":     "tink:file=/k.json?" + kek + "&profile=a%20b",
		"unknown query":          "tink:file=/k.json?" + kek + "&colour=red",
		"unknown path":           "tink:file=/k.json;object=x?" + kek,
		"repeated":               "tink:file=/k.json?" + kek + "&" + kek,
		"not a URI":              "file=/k.json",
		"NUL in file":            "tink:file=/k%00.json?" + kek,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseKey(uri); !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) err = %v, want ErrInvalidKeyURI", uri, err)
			}
		})
	}
}

// FuzzParseKey checks that parseKey accepts only what it can use, wraps
// ErrInvalidKeyURI otherwise, and that an accepted URI printed by keyuri parses to the
// same key.
func FuzzParseKey(f *testing.F) {
	f.Add("tink:file=/etc/awskeep/prod.keyset.json?kek=aws-kms://" + testARN)
	f.Add("tink:file=/k.json?kek=aws-kms://" + testARN + "&kms-endpoint=http://[::1]:5000&region=eu-west-1&profile=p")
	f.Add("tink:file=/a/../b?kek=aws-kms://arn:aws:kms:us-east-1:123456789012:alias/x&x-note=1")
	f.Add("tink:file=relative?kek=aws-kms://x")
	f.Add("pkcs11:token=a")
	f.Fuzz(func(t *testing.T, raw string) {
		ref, err := parseKey(raw)
		if err != nil {
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) error %v does not wrap ErrInvalidKeyURI", raw, err)
			}
			return
		}
		if !filepath.IsAbs(ref.file) || ref.file != filepath.Clean(ref.file) || !strings.HasPrefix(ref.kek, KEKPrefix) ||
			ref.keyID == "" || ref.region == "" || !kmsARN.MatchString(ref.keyID) {
			t.Fatalf("parseKey(%q) = %+v", raw, ref)
		}
		if ref.endpoint != "" && !strings.HasPrefix(ref.endpoint, "https://") && !strings.HasPrefix(ref.endpoint, "http://") {
			t.Fatalf("parseKey(%q): endpoint %q", raw, ref.endpoint)
		}
		u, err := keyuri.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseKey(u.String())
		if err != nil || again != ref {
			t.Fatalf("round trip of %q through %q: %+v, %v; want %+v", raw, u.String(), again, err, ref)
		}
	})
}
