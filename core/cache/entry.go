package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/awskeep/awskeep/core/creds"
	"io"
	"time"
	"unicode/utf8"
)

// entryVersion is the format version written into every entry. An entry of any other
// version is discarded, not interpreted.
const entryVersion = 1

// maxEntrySize bounds what a reader loads: a real entry is about 1.5 KiB (the session token
// dominates); anything far larger is not an entry.
const maxEntrySize = 64 << 10

// entryFile is the JSON layout of an entry file:
//
//	{"version":1,"key":{...},"credentials":{...},"expiration":"2025-01-02T03:04:05Z"}
//
// The key is stored in full so that an entry found under a key's file name can be checked
// against the key actually asked for (the file may have been copied, renamed or written by
// another version).
type entryFile struct {
	Version     int        `json:"version"`
	Key         *keyJSON   `json:"key"`
	Credentials *credsJSON `json:"credentials"`
	Expiration  string     `json:"expiration"`
}

type keyJSON struct {
	KeyURI          string `json:"key_uri"`
	AccessKeyID     string `json:"access_key_id"`
	RoleARN         string `json:"role_arn"`
	RoleSessionName string `json:"role_session_name"`
	ExternalID      string `json:"external_id"`
	Duration        string `json:"duration"`
	Region          string `json:"region"`
	Endpoint        string `json:"endpoint"`
	MFASerial       string `json:"mfa_serial,omitempty"`
}

// toJSON is k's stored form; every field must be valid UTF-8, which JSON would otherwise
// change.
func (k Key) toJSON() (*keyJSON, error) {
	for _, f := range k.fields() {
		if !utf8.ValidString(f) {
			return nil, fmt.Errorf("cache: a key field is not valid UTF-8: %w", ErrInvalidKey)
		}
	}
	return &keyJSON{
		KeyURI:          k.KeyURI,
		AccessKeyID:     k.AccessKeyID,
		RoleARN:         k.RoleARN,
		RoleSessionName: k.RoleSessionName,
		ExternalID:      k.ExternalID,
		Duration:        k.Duration.String(),
		Region:          k.Region,
		Endpoint:        k.Endpoint,
		MFASerial:       k.MFASerial,
	}, nil
}

// key is the Key kj stores; its error wraps errCorrupt.
func (kj *keyJSON) key() (Key, error) {
	d, err := time.ParseDuration(kj.Duration)
	if err != nil {
		return Key{}, corrupt("key duration is not a duration")
	}
	return Key{
		KeyURI:          kj.KeyURI,
		AccessKeyID:     kj.AccessKeyID,
		RoleARN:         kj.RoleARN,
		RoleSessionName: kj.RoleSessionName,
		ExternalID:      kj.ExternalID,
		Duration:        d,
		Region:          kj.Region,
		Endpoint:        kj.Endpoint,
		MFASerial:       kj.MFASerial,
	}, nil
}

type credsJSON struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
}

// entry is a decoded entry. It is never printed: fmt does not call creds.Credentials.String on
// unexported fields.
type entry struct {
	key Key
	cr  creds.Credentials
}

// errCorrupt marks every reason decodeEntry rejects a file.
var errCorrupt = errors.New("corrupt cache entry")

// corrupt builds a rejection reason. Reasons are fixed texts chosen here, never text taken
// from the file, because the file holds the secret access key and the session token.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCorrupt}, args...)...)
}

// checkCredentials says which field the cache needs is missing, if any.
func checkCredentials(c creds.Credentials) error {
	switch {
	case c.AccessKeyID == "":
		return fmt.Errorf("no access key id: %w", ErrInvalidCredentials)
	case c.SecretAccessKey == "":
		return fmt.Errorf("no secret access key: %w", ErrInvalidCredentials)
	case c.Expiration.IsZero():
		return fmt.Errorf("no expiration: %w", ErrInvalidCredentials)
	}
	if y := c.Expiration.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("expiration year %d out of range: %w", y, ErrInvalidCredentials)
	}
	for _, s := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
		if !utf8.ValidString(s) {
			// JSON would silently replace the bytes, and the entry would hold other
			// credentials than the ones fetched.
			return fmt.Errorf("a field is not valid UTF-8: %w", ErrInvalidCredentials)
		}
	}
	return nil
}

// encodeEntry serializes an entry. It refuses what decodeEntry would reject, so that every
// stored entry can be read back identically.
func encodeEntry(k Key, c creds.Credentials) ([]byte, error) {
	if err := checkCredentials(c); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	kj, err := k.toJSON()
	if err != nil {
		return nil, err
	}
	e := entryFile{
		Version: entryVersion,
		Key:     kj,
		Credentials: &credsJSON{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
		},
		Expiration: c.Expiration.UTC().Format(time.RFC3339Nano),
	}
	data, err := json.Marshal(&e)
	if err != nil {
		return nil, fmt.Errorf("cache: encode entry: %w", err)
	}
	return append(data, '\n'), nil
}

// decodeEntry parses and validates an entry file. Its errors wrap errCorrupt and never
// contain text from data.
func decodeEntry(data []byte) (entry, error) {
	var f entryFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// Say "wrong version" rather than "unknown field" when a newer awskeep wrote it.
		if v, ok := probeVersion(data); ok && v != entryVersion {
			return entry{}, corrupt("format version %d, want %d", v, entryVersion)
		}
		return entry{}, corrupt("%s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return entry{}, corrupt("data after the JSON object")
	}
	if f.Version != entryVersion {
		return entry{}, corrupt("format version %d, want %d", f.Version, entryVersion)
	}
	if f.Key == nil {
		return entry{}, corrupt("no key")
	}
	if f.Credentials == nil {
		return entry{}, corrupt("no credentials")
	}
	k, err := f.Key.key()
	if err != nil {
		return entry{}, err
	}
	exp, err := time.Parse(time.RFC3339Nano, f.Expiration)
	if err != nil {
		return entry{}, corrupt("expiration is not an RFC 3339 time")
	}
	e := entry{
		key: k,
		cr: creds.Credentials{
			AccessKeyID:     f.Credentials.AccessKeyID,
			SecretAccessKey: f.Credentials.SecretAccessKey,
			SessionToken:    f.Credentials.SessionToken,
			Expiration:      exp.UTC(),
		},
	}
	if err := checkCredentials(e.cr); err != nil {
		return entry{}, corrupt("%v", err)
	}
	return e, nil
}

// probeVersion reads only the version field, leniently.
func probeVersion(data []byte) (int, bool) {
	var v struct {
		Version *int `json:"version"`
	}
	if json.Unmarshal(data, &v) != nil || v.Version == nil {
		return 0, false
	}
	return *v.Version, true
}

// jsonReason turns a decoding error into a fixed text: encoding/json's messages quote
// characters and field names from the input, which may be part of a secret.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (offset %d)", syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case errors.As(err, &typ):
		// Field is a path of our own struct's JSON names, never input text.
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	default:
		return "unknown field or not an entry object"
	}
}
