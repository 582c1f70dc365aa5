package backend

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
)

// clearAEAD "encrypts" by copying: it lets the tests and fuzz targets reach the keyset
// parsing behind KMS.
type clearAEAD struct{}

func (clearAEAD) EncryptWithContext(_ context.Context, p, _ []byte) ([]byte, error) {
	return append([]byte(nil), p...), nil
}

func (clearAEAD) DecryptWithContext(_ context.Context, c, _ []byte) ([]byte, error) {
	return append([]byte(nil), c...), nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// TestKeysetKnownAnswer is the SigV4 signing key of the AWS documentation's example
// ("Examples of how to derive a signing key for Signature Version 4": secret
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830/us-east-1/iam), with kDate from the
// keyset's Tink MAC and the rest in software, as awskeep computes it.
func TestKeysetKnownAnswer(t *testing.T) {
	h, err := newKeyset([]byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := encryptKeyset(context.Background(), h, clearAEAD{})
	if err != nil {
		t.Fatal(err)
	}
	primitive, facts, err := openKeyset(context.Background(), data, clearAEAD{})
	if err != nil {
		t.Fatal(err)
	}
	kDate, err := primitive.ComputeMAC([]byte("20150830"))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(kDate); got != "0138c7a6cbd60aa727b2f653a522567439dfb9f3e72b21f9b25941a42f04a7cd" {
		t.Fatalf("kDate = %s", got)
	}
	kSigning := hmacSHA256(hmacSHA256(hmacSHA256(kDate, []byte("us-east-1")), []byte("iam")), []byte("aws4_request"))
	if got := hex.EncodeToString(kSigning); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Fatalf("kSigning = %s", got)
	}
	if facts.size != 44 || facts.id == 0 {
		t.Fatalf("facts = %+v", facts)
	}
}

// TestKeysetOfAnotherShape refuses keysets that would give SigV4 a wrong kDate.
func TestKeysetOfAnotherShape(t *testing.T) {
	h, err := newKeyset(make([]byte, 44))
	if err != nil {
		t.Fatal(err)
	}
	good, err := encryptKeyset(context.Background(), h, clearAEAD{})
	if err != nil {
		t.Fatal(err)
	}
	ek, err := parseEncrypted(good)
	if err != nil {
		t.Fatal(err)
	}
	var ks tinkpb.Keyset
	if err := proto.Unmarshal(ek.GetEncryptedKeyset(), &ks); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(ks *tinkpb.Keyset){
		"two keys":    func(ks *tinkpb.Keyset) { ks.Key = append(ks.Key, proto.Clone(ks.Key[0]).(*tinkpb.Keyset_Key)) },
		"tink prefix": func(ks *tinkpb.Keyset) { ks.Key[0].OutputPrefixType = tinkpb.OutputPrefixType_TINK },
		"no primary":  func(ks *tinkpb.Keyset) { ks.PrimaryKeyId++ },
		"disabled":    func(ks *tinkpb.Keyset) { ks.Key[0].Status = tinkpb.KeyStatusType_DISABLED },
		"other key type": func(ks *tinkpb.Keyset) {
			ks.Key[0].KeyData.TypeUrl = "type.googleapis.com/google.crypto.tink.AesGcmKey"
		},
		"key data garbage": func(ks *tinkpb.Keyset) { ks.Key[0].KeyData.Value = []byte{0xff, 0xff} },
		"no keys":          func(ks *tinkpb.Keyset) { ks.Key = nil },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			c := proto.Clone(&ks).(*tinkpb.Keyset)
			change(c)
			plain, err := proto.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := keysetMAC(plain); !errors.Is(err, errKeysetInvalid) {
				t.Fatalf("keysetMAC: %v, want errKeysetInvalid", err)
			}
		})
	}
}

// FuzzKeysetFile feeds keyset files to what HMAC reads, with a KEK that decrypts by
// copying, so the fuzzer reaches Tink's keyset parsing: every input either opens as an
// HMAC-SHA256 primitive or fails with errKeysetInvalid; nothing panics.
func FuzzKeysetFile(f *testing.F) {
	h, err := newKeyset([]byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
	if err != nil {
		f.Fatal(err)
	}
	good, err := encryptKeyset(context.Background(), h, clearAEAD{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"encryptedKeyset":"AAAA"}`))
	f.Add([]byte(`{"encryptedKeyset":"","keysetInfo":{}}`))
	f.Add([]byte(`{"primaryKeyId":1,"key":[]}`))
	f.Add([]byte("null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		primitive, _, err := openKeyset(context.Background(), data, clearAEAD{})
		if err != nil {
			if !errors.Is(err, errKeysetInvalid) {
				t.Fatalf("openKeyset: %v does not wrap errKeysetInvalid", err)
			}
			return
		}
		tag, err := primitive.ComputeMAC([]byte("20150830"))
		if err != nil || len(tag) != 32 {
			t.Fatalf("an accepted keyset computes %x, %v", tag, err)
		}
	})
}

// FuzzDecryptedKeyset feeds what KMS Decrypt returns (a serialized Keyset) to keysetMAC.
func FuzzDecryptedKeyset(f *testing.F) {
	h, err := newKeyset(make([]byte, 44))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := encryptKeyset(context.Background(), h, clearAEAD{})
	ek, _ := parseEncrypted(good)
	f.Add(ek.GetEncryptedKeyset())
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, plain []byte) {
		primitive, _, err := keysetMAC(append([]byte(nil), plain...))
		if err != nil {
			if !errors.Is(err, errKeysetInvalid) {
				t.Fatalf("keysetMAC: %v does not wrap errKeysetInvalid", err)
			}
			return
		}
		if tag, err := primitive.ComputeMAC(nil); err != nil || len(tag) != 32 {
			t.Fatalf("an accepted keyset computes %x, %v", tag, err)
		}
	})
}
