package credproc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
)

func TestMarshalParse(t *testing.T) {
	exp := time.Date(2026, 11, 24, 6, 0, 0, 0, time.FixedZone("x", 3600))
	data, err := credproc.Marshal(creds.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret/+key", SessionToken: "token==", Expiration: exp})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"secret/+key","SessionToken":"token==","Expiration":"2026-11-24T05:00:00Z"}` + "\n"
	if string(data) != want {
		t.Fatalf("Marshal = %s, want %s", data, want)
	}
	out, err := credproc.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Expiration.Equal(exp) || out.SessionToken != "token==" {
		t.Fatalf("Parse = %+v", out.Expiration)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "hello", "not the expected JSON"},
		{"version", `{"Version":2,"AccessKeyId":"a","SecretAccessKey":"s"}`, "Version 2"},
		{"no key", `{"Version":1,"SecretAccessKey":"s3cr3t"}`, "no AccessKeyId"},
		{"no secret", `{"Version":1,"AccessKeyId":"a"}`, "no SecretAccessKey"},
		{"unknown field", `{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s3cr3t","Extra":1}`, "not the expected"},
		{"trailing", `{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s3cr3t"} {}`, "after the JSON"},
		{"bad expiration", `{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s3cr3t","Expiration":"tomorrow"}`, "RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := credproc.Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%s) = %v, want %q", tt.in, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatal("error leaks the secret")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-24T05:00:00Z"}`))
	f.Add([]byte(`{"Version":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := credproc.Parse(data)
		if err != nil {
			return
		}
		// Whatever parses re-marshals into something that parses to the same value.
		again, err := credproc.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := credproc.Parse(again)
		if err != nil {
			t.Fatalf("re-marshalled output does not parse: %v", err)
		}
		if back.AccessKeyID != out.AccessKeyID || back.SecretAccessKey != out.SecretAccessKey || back.SessionToken != out.SessionToken ||
			!back.Expiration.Equal(out.Expiration) {
			t.Fatal("round trip changed the credentials")
		}
	})
}
