package main

import (
	"strings"
	"testing"
	"time"
)

func TestExpiresFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1s": time.Second, "1": time.Second, "900": 15 * time.Minute, "15m": 15 * time.Minute,
		"12h": 12 * time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "168h": 7 * 24 * time.Hour,
		"604800": 7 * 24 * time.Hour,
	} {
		var v expiresValue
		if err := v.Set(in); err != nil || time.Duration(v) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(v), err, want)
		}
	}
	for in, why := range map[string]string{
		"8d": "longer than 7d", "169h": "longer than 7d", "604801": "longer than 7d", "99999999999d": "longer than 7d",
		"500ms": "shorter than 1s", "1.5s": "whole number of seconds",
		"0": "want a duration", "0d": "want a duration", "-1d": "want a duration", "soon": "want a duration", "d": "want a duration",
	} {
		var v expiresValue
		if err := v.Set(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("Set(%q) = %v, want an error saying %q", in, err, why)
		}
	}
}

// TestPresignUsageErrors: a bad command line exits 2 with one line before any key is
// opened; an expiry out of bounds says the bound.
func TestPresignUsageErrors(t *testing.T) {
	key := []string{"--key", "pkcs11:token=aws;object=prod", "--access-key-id", "AKIAIOSFODNN7EXAMPLE"}
	url := "https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", key, "no URL"},
		{"two URLs", append(key, url, url), "one URL only"},
		{"POST", append(key, "-X", "POST", url), "-X: presign takes GET, PUT, HEAD, DELETE"},
		{"8 days", append(key, "--expires", "8d", url), "longer than 7d (168h)"},
		{"too short", append(key, "--expires", "0.5s", url), "shorter than 1s"},
		{"zero", append(key, "--expires", "0", url), "--expires"},
		{"no key", []string{url}, "--profile NAME"},
		{"host awskeep cannot place", append(key, "http://127.0.0.1:9000/b/k"), "--service"},
		{"not http", append(key, "--service", "s3", "s3://b/k"), "https:// or http://"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runAwskeep(t, "", nil, append([]string{"presign"}, tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "awskeep: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, one line", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, tt.want)
			}
		})
	}
}

func TestPresignMethods(t *testing.T) {
	for _, m := range []string{"GET", "PUT", "HEAD", "DELETE"} {
		if !validPresignMethod(m) {
			t.Errorf("%s refused", m)
		}
	}
	for _, m := range []string{"POST", "PATCH", "get", ""} {
		if validPresignMethod(m) {
			t.Errorf("%q accepted", m)
		}
	}
}
