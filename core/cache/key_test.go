package cache

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey is a realistic AssumeRole key.
func testKey() Key {
	return Key{
		KeyURI:          "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so",
		AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		RoleARN:         "arn:aws:iam::123456789012:role/deploy",
		RoleSessionName: "awskeep",
		ExternalID:      "ext-1",
		Duration:        time.Hour,
		Region:          "eu-west-1",
		Endpoint:        "http://127.0.0.1:5000",
		MFASerial:       "arn:aws:iam::123456789012:mfa/alice",
	}
}

// TestKeyIDKnownAnswer pins the file-name hash: changing the encoding silently orphans
// every user's entries, so it must be a deliberate change (bump keyIDDomain). The values
// were computed independently with Python's hashlib and struct.pack(">Q", len(field)).
func TestKeyIDKnownAnswer(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"zero", Key{}, "62fb6d221695270983e6522f4368166245a632166b280dd8079b698ebf85edf6"},
		{"assume role", testKey(), "c9839aea00c42c64f20228c970a95b50215b7fa753605fe3403e872ec3bce6aa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.id(); got != tc.want {
				t.Errorf("id() = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestKeyIDDistinct checks that every field, and the boundaries between fields, change the id.
func TestKeyIDDistinct(t *testing.T) {
	base := testKey()
	tests := []struct {
		name   string
		mutate func(*Key)
	}{
		{"key uri", func(k *Key) { k.KeyURI += "x" }},
		{"access key id", func(k *Key) { k.AccessKeyID = "AKIAOTHER" }},
		{"role arn", func(k *Key) { k.RoleARN = "" }},
		{"session name", func(k *Key) { k.RoleSessionName = "other" }},
		{"external id", func(k *Key) { k.ExternalID = "" }},
		{"duration", func(k *Key) { k.Duration = 2 * time.Hour }},
		{"duration 1ns", func(k *Key) { k.Duration++ }},
		{"region", func(k *Key) { k.Region = "us-east-1" }},
		{"endpoint", func(k *Key) { k.Endpoint = "" }},
		{"mfa serial", func(k *Key) { k.MFASerial = "" }},
		{"boundary shift", func(k *Key) { k.RoleSessionName, k.ExternalID = "awskeepe", "xt-1" }},
		{"field swap", func(k *Key) { k.Region, k.Endpoint = k.Endpoint, k.Region }},
	}
	seen := map[string]string{base.id(): "base"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := base
			tc.mutate(&k)
			id := k.id()
			if prev, ok := seen[id]; ok {
				t.Fatalf("id %s of %q equals that of %q", id, tc.name, prev)
			}
			seen[id] = tc.name
			if !isID(id) {
				t.Errorf("id %q is not 64 lower-case hex digits", id)
			}
		})
	}
}

func TestKeyValidate(t *testing.T) {
	tests := []struct {
		uri     string
		wantErr bool
	}{
		{"pkcs11:token=aws;object=prod", false},
		{"pkcs11:token=aws?pin-source=file:/run/pin", false},
		{"pkcs11:token=aws?pin-value=123456", true},
		{"yubihsm:object-id=0x10?PIN-VALUE=password", true},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			err := Key{KeyURI: tc.uri}.validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("validate() = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("error %v does not wrap ErrInvalidKey", err)
				}
				for _, secret := range []string{"123456", "password"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains the PIN", err)
					}
				}
			}
		})
	}
}
