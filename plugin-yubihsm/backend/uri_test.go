package backend

import (
	"errors"
	"testing"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
	"github.com/awskeep/awskeep/plugins"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want keyRef
	}{
		{"defaults", "yubihsm:object-id=0x0010",
			keyRef{objectID: 0x10, connector: yubihsm.DefaultConnectorURL, authKeyID: 1, label: "awskeep-0010", domains: 1}},
		{"everything", "yubihsm:object-id=16?connector=http://127.0.0.1:4321&auth-key-id=0x0002&label=prod%20key&domains=1,2,16",
			keyRef{objectID: 0x10, connector: "http://127.0.0.1:4321", authKeyID: 2, label: "prod key", domains: 0x8003}},
		{"pin-source is ignored", "yubihsm:object-id=0xffff?pin-source=file:/run/pw",
			keyRef{objectID: 0xffff, connector: yubihsm.DefaultConnectorURL, authKeyID: 1, label: "awskeep-ffff", domains: 1}},
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
	for name, uri := range map[string]string{
		"other scheme":      "pkcs11:object=x",
		"no object id":      "yubihsm:?connector=http://x",
		"object id zero":    "yubihsm:object-id=0",
		"object id too big": "yubihsm:object-id=0x10000",
		"bad auth key":      "yubihsm:object-id=1?auth-key-id=none",
		"domain 17":         "yubihsm:object-id=1?domains=1,17",
		"domain word":       "yubihsm:object-id=1?domains=all",
		"empty domains":     "yubihsm:object-id=1?domains=",
		"label too long":    "yubihsm:object-id=1?label=" + "0123456789012345678901234567890123456789x",
		"empty label":       "yubihsm:object-id=1?label=",
		"unknown attribute": "yubihsm:object-id=1?colour=red",
		"not a URI":         "object-id=1",
		"empty connector":   "yubihsm:object-id=1?connector=",
		"connector no http": "yubihsm:object-id=1?connector=127.0.0.1:12345",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseKey(uri); !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) err = %v, want ErrInvalidKeyURI", uri, err)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("yubihsm:object-id=0x0010?connector=http://127.0.0.1:12345&auth-key-id=1&domains=1,2&label=x")
	f.Add("yubihsm:object-id=1")
	f.Add("yubihsm:object-id=1?domains=16,1,1")
	f.Add("pkcs11:token=a")
	f.Fuzz(func(t *testing.T, uri string) {
		ref, err := parseKey(uri)
		if err != nil {
			if !errors.Is(err, plugins.ErrInvalidKeyURI) {
				t.Fatalf("parseKey(%q) error %v does not wrap ErrInvalidKeyURI", uri, err)
			}
			return
		}
		if ref.objectID == 0 || ref.authKeyID == 0 || ref.domains == 0 || len(ref.label) == 0 ||
			len(ref.label) > yubihsm.LabelSize || ref.connector == "" {
			t.Fatalf("parseKey(%q) = %+v", uri, ref)
		}
	})
}
