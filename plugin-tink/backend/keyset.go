package backend

import (
	"bytes"
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/insecuresecretdataaccess"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/mac/hmac"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/secretdata"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// maxKeysetFile bounds what is read of a keyset file: one HMAC key encrypted by KMS takes
// well under 1 KiB of JSON.
const maxKeysetFile = 64 << 10

// tagSize is HMAC-SHA256's full output, what SigV4 uses.
const tagSize = 32

// hmacTypeURL is the type of Tink's HMAC keys (tink-go mac/hmac).
const hmacTypeURL = "type.googleapis.com/google.crypto.tink.HmacKey"

// newKeyset returns a keyset holding material as its one key: HMAC-SHA256 with a 32-byte
// tag and no output prefix (Tink's RAW), so that the MAC is exactly HMAC-SHA256(material,
// message).
func newKeyset(material []byte) (*keyset.Handle, error) {
	params, err := hmac.NewParameters(hmac.ParametersOpts{
		KeySizeInBytes: len(material), TagSizeInBytes: tagSize, HashType: hmac.SHA256, Variant: hmac.VariantNoPrefix,
	})
	if err != nil {
		return nil, err
	}
	key, err := hmac.NewKey(secretdata.NewBytesFromData(material, insecuresecretdataaccess.Token{}), params, 0)
	if err != nil {
		return nil, err
	}
	m := keyset.NewManager()
	id, err := m.AddKey(key)
	if err != nil {
		return nil, err
	}
	if err := m.SetPrimary(id); err != nil {
		return nil, err
	}
	return m.Handle()
}

// encryptKeyset writes h as Tink's EncryptedKeyset in JSON: the serialized keyset
// encrypted with kek (one KMS Encrypt, empty associated data, as keyset.Handle.Write does,
// so Tink's own tools read the file), and the keyset's info in clear. It encrypts by
// itself rather than through keyset.Handle.WriteWithContext, which flattens KMS errors to
// text.
func encryptKeyset(ctx context.Context, h *keyset.Handle, kek tink.AEADWithContext) ([]byte, error) {
	plain, err := proto.Marshal(insecurecleartextkeyset.KeysetMaterial(h))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errKeysetInvalid, err)
	}
	defer clear(plain)
	ct, err := kek.EncryptWithContext(ctx, plain, nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	ek := &tinkpb.EncryptedKeyset{EncryptedKeyset: ct, KeysetInfo: h.KeysetInfo()}
	if err := keyset.NewJSONWriter(&buf).WriteEncrypted(ek); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseEncrypted reads Tink's EncryptedKeyset JSON without decrypting it.
func parseEncrypted(data []byte) (*tinkpb.EncryptedKeyset, error) {
	if len(data) > maxKeysetFile {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", errKeysetInvalid, maxKeysetFile)
	}
	ek, err := keyset.NewJSONReader(bytes.NewReader(data)).ReadEncrypted()
	if err != nil {
		return nil, fmt.Errorf("%w: not Tink's EncryptedKeyset JSON: %v", errKeysetInvalid, err)
	}
	if len(ek.GetEncryptedKeyset()) == 0 {
		return nil, fmt.Errorf("%w: encryptedKeyset is empty", errKeysetInvalid)
	}
	return ek, nil
}

// openKeyset decrypts data with kek (one KMS Decrypt) and returns the MAC primitive of its
// one key after checking that the keyset is what newKeyset writes. Errors of kek are
// returned as they are (translateKMS maps them); a file or keyset of another shape wraps
// errKeysetInvalid.
func openKeyset(ctx context.Context, data []byte, kek tink.AEADWithContext) (tink.MAC, keyFacts, error) {
	ek, err := parseEncrypted(data)
	if err != nil {
		return nil, keyFacts{}, err
	}
	plain, err := kek.DecryptWithContext(ctx, ek.GetEncryptedKeyset(), nil)
	if err != nil {
		return nil, keyFacts{}, err
	}
	return keysetMAC(plain)
}

// keysetMAC parses a serialized Keyset (what KMS decrypted) and returns its MAC primitive.
// It clears plain.
func keysetMAC(plain []byte) (tink.MAC, keyFacts, error) {
	defer clear(plain)
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(plain)))
	if err != nil {
		return nil, keyFacts{}, fmt.Errorf("%w: %v", errKeysetInvalid, err)
	}
	facts, err := checkKeyset(h)
	if err != nil {
		return nil, keyFacts{}, err
	}
	primitive, err := mac.New(h)
	if err != nil {
		return nil, keyFacts{}, fmt.Errorf("%w: %v", errKeysetInvalid, err)
	}
	return primitive, facts, nil
}

// keyFacts is what DescribeKey says about the key of a keyset: Tink's key id and the key's
// size in bytes (44 for "AWS4" and a 40-character secret).
type keyFacts struct {
	id   uint32
	size int
}

// checkKeyset accepts exactly one enabled primary HMAC-SHA256 key with a 32-byte tag and
// no output prefix: anything else would give SigV4 a wrong kDate.
func checkKeyset(h *keyset.Handle) (keyFacts, error) {
	if h.Len() != 1 {
		return keyFacts{}, fmt.Errorf("%w: the keyset holds %d keys, want 1", errKeysetInvalid, h.Len())
	}
	e, err := h.Primary()
	if err != nil {
		return keyFacts{}, fmt.Errorf("%w: %v", errKeysetInvalid, err)
	}
	key, ok := e.Key().(*hmac.Key)
	if !ok {
		return keyFacts{}, fmt.Errorf("%w: the key is %T, want an HMAC key", errKeysetInvalid, e.Key())
	}
	p, ok := key.Parameters().(*hmac.Parameters)
	if !ok || p.HashType() != hmac.SHA256 || p.CryptographicTagSizeInBytes() != tagSize || p.Variant() != hmac.VariantNoPrefix {
		return keyFacts{}, fmt.Errorf("%w: the key is not RAW HMAC-SHA256 with a %d-byte tag", errKeysetInvalid, tagSize)
	}
	if e.KeyStatus() != keyset.Enabled {
		return keyFacts{}, fmt.Errorf("%w: the key is %v", errKeysetInvalid, e.KeyStatus())
	}
	return keyFacts{id: e.KeyID(), size: p.KeySizeInBytes()}, nil
}
