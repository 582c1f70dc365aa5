package sts_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/core/sts"
)

// stsAnswering is an STS endpoint that answers every call with credentials expiring at exp.
func stsAnswering(t *testing.T, exp time.Time) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		action := r.Form.Get("Action")
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult><Credentials>
<AccessKeyId>ASIAPLAUSIBLE</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey><SessionToken>t0ken</SessionToken>
<Expiration>%[2]s</Expiration></Credentials></%[1]sResult></%[1]sResponse>`, action, exp.UTC().Format(time.RFC3339))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestImplausibleCredentialsAreRefused(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		exp  time.Time
		want string // "" for accepted
	}{
		{"one hour", now.Add(time.Hour), ""},
		{"36 hours", now.Add(36 * time.Hour), ""},
		{"already expired", now.Add(-time.Minute), "expired at 2026-11-30T11:59:00Z"},
		{"expires now", now, "expired at"},
		{"beyond 36 hours", now.Add(48 * time.Hour), "more than 36h0m0s from now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := sts.New(sigv4.SoftwareDeriver("secret"), "AKIAIOSFODNN7EXAMPLE", func(o *sts.Options) {
				o.EndpointURL = stsAnswering(t, tt.exp)
				o.Now = func() time.Time { return now }
			})
			for op, call := range map[string]func() (creds.Credentials, error){
				"GetSessionToken": func() (creds.Credentials, error) {
					return client.GetSessionToken(t.Context(), sts.GetSessionTokenInput{})
				},
				"AssumeRole": func() (creds.Credentials, error) {
					return client.AssumeRole(t.Context(), sts.AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s"})
				},
			} {
				got, err := call()
				if tt.want == "" {
					if err != nil || got.AccessKeyID != "ASIAPLAUSIBLE" {
						t.Fatalf("%s: %v, %v", op, got, err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "STS "+op) {
					t.Fatalf("%s: err = %v, want %q", op, err, tt.want)
				}
				if creds.ClassOf(err) != creds.ClassSTS || got.SecretAccessKey != "" {
					t.Fatalf("%s: class %v, credentials returned anyway", op, creds.ClassOf(err))
				}
				if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "t0ken") {
					t.Fatal("the error holds a secret")
				}
			}
		})
	}
}

// TestRedirectIsReported: an endpoint that redirects (http to https, a proxy's login page)
// is named as such, and the signed request is not sent on.
func TestRedirectIsReported(t *testing.T) {
	var followed bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", status)
			}))
			defer srv.Close()
			client := sts.New(sigv4.SoftwareDeriver("secret"), "AKIAIOSFODNN7EXAMPLE", func(o *sts.Options) { o.EndpointURL = srv.URL })
			_, err := client.GetSessionToken(t.Context(), sts.GetSessionTokenInput{})
			want := fmt.Sprintf("redirect (HTTP %d) to %q", status, target.URL+"/elsewhere")
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "UnknownError") {
				t.Fatalf("err = %v, want %s", err, want)
			}
			if followed {
				t.Fatal("the redirect was followed")
			}
		})
	}
}

// TestServerTextIsQuoted: an STS message is the server's words, shown quoted so that none
// of it passes for awskeep's own (a message could hold anything, a newline included).
func TestServerTextIsQuoted(t *testing.T) {
	err := &sts.APIError{Operation: "AssumeRole", Code: "AccessDenied", Message: "not you\nawskeep: all fine"}
	if got, want := err.Error(), `STS AssumeRole: AccessDenied: "not you\nawskeep: all fine"`; got != want {
		t.Fatalf("Error() = %s, want %s", got, want)
	}
}
