package cache

import (
	"bytes"
	"errors"
	"github.com/awskeep/awskeep/core/creds"
	"strings"
	"testing"
	"time"
)

const (
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETzKEY"
	testToken  = "FwoGZXIvYXdzEJr//////////wEaDSESSIONzTOKENzSENTINELzFwoGZXIvYXdzEJr"
)

var testNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func testCreds(exp time.Time) creds.Credentials {
	return creds.Credentials{
		AccessKeyID:     "ASIAIOSFODNN7EXAMPLE",
		SecretAccessKey: testSecret,
		SessionToken:    testToken,
		Expiration:      exp,
	}
}

func mustEncode(t testing.TB, k Key, c creds.Credentials) []byte {
	t.Helper()
	data, err := encodeEntry(k, c)
	if err != nil {
		t.Fatalf("encodeEntry: %v", err)
	}
	return data
}

// TestEntryKnownAnswer pins the file format (DESIGN.md "Cache"; the version field guards it).
func TestEntryKnownAnswer(t *testing.T) {
	k := Key{KeyURI: "tpm:handle=0x81010002", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Duration: time.Hour, Region: "us-east-1"}
	c := creds.Credentials{AccessKeyID: "ASIA1", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Date(2025, 1, 2, 4, 4, 5, 0, time.FixedZone("x", 3600))}
	want := `{"version":1,"key":{"key_uri":"tpm:handle=0x81010002","access_key_id":"AKIAIOSFODNN7EXAMPLE","role_arn":"","role_session_name":"","external_id":"","duration":"1h0m0s","region":"us-east-1","endpoint":""},"credentials":{"access_key_id":"ASIA1","secret_access_key":"s","session_token":"t"},"expiration":"2025-01-02T03:04:05Z"}` + "\n"
	if got := string(mustEncode(t, k, c)); got != want {
		t.Errorf("encodeEntry =\n%s\nwant\n%s", got, want)
	}
	e, err := decodeEntry([]byte(want))
	if err != nil {
		t.Fatalf("decodeEntry: %v", err)
	}
	if e.key != k || !sameCreds(e.cr, c) {
		t.Errorf("decodeEntry = %v %v, want %v %v", e.key, e.cr, k, c)
	}
}

func sameCreds(a, b creds.Credentials) bool {
	return a.AccessKeyID == b.AccessKeyID && a.SecretAccessKey == b.SecretAccessKey &&
		a.SessionToken == b.SessionToken && a.Expiration.Equal(b.Expiration)
}

func TestDecodeEntryRejects(t *testing.T) {
	valid := string(mustEncode(t, testKey(), testCreds(testNow.Add(time.Hour))))
	tests := []struct {
		name   string
		data   string
		reason string
	}{
		{"empty", "", "truncated"},
		{"truncated", valid[:len(valid)/2], "truncated"},
		{"truncated in secret", valid[:strings.Index(valid, testSecret)+10], "truncated"},
		{"null", "null", "format version 0"},
		{"empty object", "{}", "format version 0"},
		{"array", "[]", "wrong type"},
		{"garbage", "\x00\x01binary", "not valid JSON"},
		{"version 2", strings.Replace(valid, `"version":1`, `"version":2`, 1), "format version 2, want 1"},
		{"version 2 with new fields", `{"version":2,"new":true}`, "format version 2, want 1"},
		{"version as string", strings.Replace(valid, `"version":1`, `"version":"`+testSecret+`"`, 1), `"version" has the wrong type`},
		{"unknown field", strings.Replace(valid, `"version":1`, `"version":1,"`+testSecret+`":1`, 1), "unknown field"},
		{"trailing data", valid + "{}", "data after"},
		{"no key", strings.Replace(valid, `"key":{`, `"key":null,"x":{`, 1), "unknown field"},
		{"key null", `{"version":1,"key":null,"credentials":{},"expiration":"2025-01-01T00:00:00Z"}`, "no key"},
		{"no credentials", `{"version":1,"key":{"duration":"0s"},"expiration":"2025-01-01T00:00:00Z"}`, "no credentials"},
		{"bad duration", strings.Replace(valid, `"1h0m0s"`, `"`+testSecret+`"`, 1), "duration"},
		{"bad expiration", strings.Replace(valid, testNow.Add(time.Hour).Format(time.RFC3339), testToken, 1), "expiration"},
		{"no expiration", strings.Replace(valid, testNow.Add(time.Hour).Format(time.RFC3339), "", 1), "expiration"},
		{"no secret", strings.Replace(valid, testSecret, "", 1), "no secret access key"},
		{"no access key id", strings.Replace(valid, `"ASIAIOSFODNN7EXAMPLE"`, `""`, 1), "no access key id"},
		{"secret wrong type", strings.Replace(valid, `"`+testSecret+`"`, `["`+testSecret+`"]`, 1), "wrong type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeEntry([]byte(tc.data))
			if err == nil {
				t.Fatal("decodeEntry accepted it")
			}
			if !errors.Is(err, errCorrupt) {
				t.Errorf("error %v does not wrap errCorrupt", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
			assertNoSecrets(t, "decode error", err.Error())
		})
	}
}

func TestEncodeEntryRefuses(t *testing.T) {
	good := testCreds(testNow.Add(time.Hour))
	tests := []struct {
		name string
		key  Key
		cr   creds.Credentials
		want error
	}{
		{"no expiration", testKey(), creds.Credentials{AccessKeyID: "A", SecretAccessKey: testSecret}, ErrInvalidCredentials},
		{"no secret", testKey(), creds.Credentials{AccessKeyID: "A", Expiration: testNow}, ErrInvalidCredentials},
		{"no access key id", testKey(), creds.Credentials{SecretAccessKey: testSecret, Expiration: testNow}, ErrInvalidCredentials},
		{"year 10000", testKey(), func() creds.Credentials {
			c := good
			c.Expiration = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			return c
		}(), ErrInvalidCredentials},
		{"secret not utf-8", testKey(), func() creds.Credentials { c := good; c.SecretAccessKey = "\xff" + testSecret; return c }(), ErrInvalidCredentials},
		{"key not utf-8", Key{Region: "\xff"}, good, ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encodeEntry(tc.key, tc.cr)
			if !errors.Is(err, tc.want) {
				t.Fatalf("encodeEntry error = %v, want %v", err, tc.want)
			}
			assertNoSecrets(t, "encode error", err.Error())
		})
	}
}

// assertNoSecrets fails if s contains the test secret or token, or a recognizable piece.
func assertNoSecrets(t testing.TB, what, s string) {
	t.Helper()
	for _, secret := range []string{testSecret, testToken} {
		for _, piece := range []string{secret, secret[:12], secret[len(secret)-12:], "SECRET", "TOKEN"} {
			if strings.Contains(s, piece) {
				t.Errorf("%s contains secret material %q:\n%s", what, piece, s)
			}
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	valid := mustEncode(f, testKey(), testCreds(testNow.Add(time.Hour)))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(mustEncode(f, Key{}, creds.Credentials{AccessKeyID: "A", SecretAccessKey: "S", Expiration: time.Unix(0, 1)}))
	f.Add(bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":2`), 1))
	f.Add(bytes.Replace(valid, []byte(`"1h0m0s"`), []byte(`"-2562047h47m16.854775808s"`), 1))
	f.Add(bytes.Replace(valid, []byte(`"1h0m0s"`), []byte(`"1.5h"`), 1))
	f.Add(bytes.Replace(valid, []byte(`Z"`), []byte(`+23:59"`), 1))
	f.Add([]byte(`{"version":1,"key":{"duration":"0s"},"credentials":{"access_key_id":"A","secret_access_key":"\u00e9\ud800"},"expiration":"0001-01-01T00:00:00+00:01"}`))
	f.Add([]byte(`{"version":1,"key":{"duration":"0"},"credentials":{"access_key_id":"A","secret_access_key":"B"},"expiration":"9999-12-31T23:59:59.999999999-23:59"}`))
	f.Add([]byte(""))
	f.Add([]byte("null"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		enc, err := encodeEntry(e.key, e.cr)
		if err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
		e2, err := decodeEntry(enc)
		if err != nil {
			t.Fatalf("a re-encoded entry does not decode: %v\n%s", err, enc)
		}
		if e2.key != e.key || !sameCreds(e2.cr, e.cr) {
			t.Fatalf("round trip changed the entry:\n%q\n%s", data, enc)
		}
		enc2, err := encodeEntry(e2.key, e2.cr)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
