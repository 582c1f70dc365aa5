package server

import (
	"bufio"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sdkIMDSCredentials is the shape aws-sdk-go-v2's ec2rolecreds decodes (ec2RoleCredRespBody).
type sdkIMDSCredentials struct {
	Expiration      time.Time
	AccessKeyID     string
	SecretAccessKey string
	Token           string
	Code            string
	Message         string
}

// imdsToken gets a session token, naming the TTL header ttlName.
func imdsToken(t *testing.T, url, ttlName string) string {
	t.Helper()
	resp, tok := do(t, http.MethodPut, url+tokenPath, map[string]string{ttlName: "21600"})
	if resp.StatusCode != http.StatusOK || tok == "" {
		t.Fatalf("PUT %s: status %d, body %q", tokenPath, resp.StatusCode, tok)
	}
	return tok
}

// TestIMDSFlowAsTheSDKsSendIt replays the requests of aws-sdk-go-v2 (feature/ec2/imds and
// credentials/ec2rolecreds: canonical header names) and of botocore's
// InstanceMetadataFetcher (lower-case names), and reads the answers as they do.
func TestIMDSFlowAsTheSDKsSendIt(t *testing.T) {
	clients := []struct{ name, ttlHeader, tokenHeader string }{
		{"aws-sdk-go-v2", "X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "X-Aws-Ec2-Metadata-Token"},
		{"botocore", "x-aws-ec2-metadata-token-ttl-seconds", "x-aws-ec2-metadata-token"},
	}
	clock := &fakeClock{now: time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)}
	srv := serve(t, staticProvider(), Options{IMDS: true, Now: clock.Now})
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			// Token: aws-sdk-go-v2 fails unless the TTL comes back as an integer header.
			resp, tok := do(t, http.MethodPut, srv.URL+tokenPath, map[string]string{c.ttlHeader: "21600"})
			if resp.StatusCode != http.StatusOK || len(tok) != 43 {
				t.Fatalf("PUT token: status %d, body %q", resp.StatusCode, tok)
			}
			if ttl, err := strconv.ParseInt(resp.Header.Get(ttlHeader), 10, 64); err != nil || ttl != 21600 {
				t.Fatalf("TTL header %q", resp.Header.Get(ttlHeader))
			}
			// Role list: the SDK scans lines and takes the first.
			resp, list := do(t, http.MethodGet, srv.URL+credsPath, map[string]string{c.tokenHeader: tok})
			s := bufio.NewScanner(strings.NewReader(list))
			if resp.StatusCode != http.StatusOK || !s.Scan() || s.Text() != "awskeep" {
				t.Fatalf("role list: status %d, body %q", resp.StatusCode, list)
			}
			// Credentials.
			resp, body := do(t, http.MethodGet, srv.URL+credsPath+s.Text(), map[string]string{c.tokenHeader: tok})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("credentials: status %d, headers %v", resp.StatusCode, resp.Header)
			}
			var fields map[string]string
			if err := json.Unmarshal([]byte(body), &fields); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"Code": "Success", "LastUpdated": "2026-11-30T12:30:00Z", "Type": "AWS-HMAC",
				"AccessKeyId": "ASIATESTKEYID", "SecretAccessKey": testSecret, "Token": testSession, "Expiration": "2026-11-30T13:00:00Z"}
			if !maps.Equal(fields, want) {
				t.Fatalf("fields %v\nwant %v", fields, want)
			}
			var sdk sdkIMDSCredentials
			if err := json.Unmarshal([]byte(body), &sdk); err != nil || !strings.EqualFold(sdk.Code, "Success") ||
				!sdk.Expiration.Equal(testExpiry) || sdk.AccessKeyID != "ASIATESTKEYID" || sdk.SecretAccessKey != testSecret || sdk.Token != testSession {
				t.Fatalf("aws-sdk-go-v2 would read %+v (%v)", sdk, err)
			}
		})
	}
}

func TestIMDSRefusals(t *testing.T) {
	srv := serve(t, staticProvider(), Options{IMDS: true})
	tok := imdsToken(t, srv.URL, ttlHeader)
	role := credsPath + "awskeep"
	tests := []struct {
		name, method, path string
		headers            map[string]string
		want               int
	}{
		{"IMDSv1", http.MethodGet, role, nil, http.StatusUnauthorized},
		{"IMDSv1 role list", http.MethodGet, credsPath, nil, http.StatusUnauthorized},
		{"unknown token", http.MethodGet, role, map[string]string{tokenHeader: "not-a-token"}, http.StatusUnauthorized},
		{"token prefix", http.MethodGet, role, map[string]string{tokenHeader: tok[:len(tok)-1]}, http.StatusUnauthorized},
		{"ECS token", http.MethodGet, role, map[string]string{tokenHeader: testToken}, http.StatusUnauthorized},
		{"other role", http.MethodGet, credsPath + "admin", map[string]string{tokenHeader: tok}, http.StatusNotFound},
		{"other metadata", http.MethodGet, "/latest/meta-data/instance-id", map[string]string{tokenHeader: tok}, http.StatusNotFound},
		{"forwarded token request", http.MethodPut, tokenPath, map[string]string{ttlHeader: "21600", "X-Forwarded-For": "203.0.113.1"}, http.StatusForbidden},
		{"forwarded get", http.MethodGet, role, map[string]string{tokenHeader: tok, "x-forwarded-for": "203.0.113.1"}, http.StatusForbidden},
		{"browser token request", http.MethodPut, tokenPath, map[string]string{ttlHeader: "21600", "Origin": "http://rebound.example:8080"}, http.StatusForbidden},
		{"GET token", http.MethodGet, tokenPath, map[string]string{ttlHeader: "21600"}, http.StatusMethodNotAllowed},
		{"PUT credentials", http.MethodPut, role, map[string]string{tokenHeader: tok}, http.StatusMethodNotAllowed},
		{"TTL missing", http.MethodPut, tokenPath, nil, http.StatusBadRequest},
		{"TTL zero", http.MethodPut, tokenPath, map[string]string{ttlHeader: "0"}, http.StatusBadRequest},
		{"TTL above 6 hours", http.MethodPut, tokenPath, map[string]string{ttlHeader: "21601"}, http.StatusBadRequest},
		{"TTL negative", http.MethodPut, tokenPath, map[string]string{ttlHeader: "-1"}, http.StatusBadRequest},
		{"TTL signed", http.MethodPut, tokenPath, map[string]string{ttlHeader: "+5"}, http.StatusBadRequest},
		{"TTL not a number", http.MethodPut, tokenPath, map[string]string{ttlHeader: "6h"}, http.StatusBadRequest},
		{"TTL huge", http.MethodPut, tokenPath, map[string]string{ttlHeader: "99999999999999999999"}, http.StatusBadRequest},
		{"TTL one second", http.MethodPut, tokenPath, map[string]string{ttlHeader: "1"}, http.StatusOK},
		{"TTL six hours", http.MethodPut, tokenPath, map[string]string{ttlHeader: "21600"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.headers)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusOK && body != "" {
				t.Fatalf("a refusal with a body: %q", body)
			}
		})
	}
}

func TestIMDSTokenExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	srv := serve(t, staticProvider(), Options{IMDS: true, Now: clock.Now, MaxIMDSTokenTTL: time.Minute})
	if resp, _ := do(t, http.MethodPut, srv.URL+tokenPath, map[string]string{ttlHeader: "61"}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a TTL above MaxIMDSTokenTTL: status %d", resp.StatusCode)
	}
	resp, tok := do(t, http.MethodPut, srv.URL+tokenPath, map[string]string{ttlHeader: "10"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get(ttlHeader) != "10" {
		t.Fatalf("PUT: %d %v", resp.StatusCode, resp.Header)
	}
	get := func() int {
		resp, _ := do(t, http.MethodGet, srv.URL+credsPath+"awskeep", map[string]string{tokenHeader: tok})
		return resp.StatusCode
	}
	clock.add(9*time.Second + 999*time.Millisecond)
	if s := get(); s != http.StatusOK {
		t.Fatalf("a live token: %d", s)
	}
	clock.add(time.Millisecond)
	if s := get(); s != http.StatusUnauthorized {
		t.Fatalf("an expired token: %d", s)
	}
}

func TestSessionsAreBounded(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := newSessions(3)
	s.add("short", now.Add(time.Second), now)
	for _, tok := range []string{"a", "b", "c"} {
		s.add(tok, now.Add(time.Hour), now)
	}
	if s.valid("short", now) || !s.valid("a", now) || !s.valid("c", now) {
		t.Fatal("the oldest token was not the one evicted")
	}
	later := now.Add(2 * time.Second)
	s.add("d", later.Add(time.Hour), later)
	if s.valid("a", later) || !s.valid("b", later) || !s.valid("d", later) {
		t.Fatal("a fourth live token did not evict the oldest")
	}
	for i := range 5000 {
		s.add(strconv.Itoa(i), later.Add(time.Hour), later)
	}
	if len(s.live) != 3 || len(s.order) != 3 {
		t.Fatalf("%d live tokens, %d in order; want 3", len(s.live), len(s.order))
	}
	if !slices.Contains(s.order, digest("4999")) {
		t.Fatal("the newest token is missing")
	}
}
