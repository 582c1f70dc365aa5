package devicesign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSignerForwardsEverySDKOption: the Key's Signer, given each combination of the
// v4.SignerOptions fields the SDK passes (DisableURIPathEscaping, DisableHeaderHoisting,
// DisableSessionToken) and each payload mode (a SHA-256, UNSIGNED-PAYLOAD,
// STREAMING-UNSIGNED-PAYLOAD-TRAILER), signs and presigns exactly as aws-sdk-go-v2's own
// signer does with the secret in memory. The path needs escaping and the request carries
// an X-Amz-* header that presigning hoists into the query, so dropping either of the first
// two options changes the result. (The Key signs without a session token, so
// DisableSessionToken has nothing to act on; it must still be accepted.)
func TestSignerForwardsEverySDKOption(t *testing.T) {
	k := openTestKey(t, alice.AccessKeyID, alice.SecretAccessKey)
	signer := k.Signer()
	sdkCreds := aws.Credentials{AccessKeyID: alice.AccessKeyID, SecretAccessKey: alice.SecretAccessKey}
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	body := []byte("an object body")
	sum := sha256.Sum256(body)
	newRequest := func() *http.Request {
		u := &url.URL{Scheme: "https", Host: "my-bucket.s3.us-east-1.amazonaws.com", Path: "/dir/a b+c=d/ሴ%.txt", RawQuery: "x-id=PutObject"}
		r := &http.Request{Method: http.MethodPut, URL: u, Host: u.Host, Header: http.Header{}}
		r.Header.Set("X-Amz-Meta-Owner", "alice")
		r.Header.Set("X-Amz-Storage-Class", "STANDARD")
		r.Header.Set("X-Amz-Awskeep-Test", "hoisted unless DisableHeaderHoisting") // not one S3 requires signed
		r.Header.Set("Content-Type", "text/plain")
		return r
	}
	for _, payload := range []string{hex.EncodeToString(sum[:]), "UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"} {
		for bits := range 8 {
			opt := func(o *v4.SignerOptions) {
				o.DisableURIPathEscaping = bits&1 != 0
				o.DisableHeaderHoisting = bits&2 != 0
				o.DisableSessionToken = bits&4 != 0
			}
			name := fmt.Sprintf("%s/escaping=%t,hoisting=%t,token=%t", payload[:min(len(payload), 24)], bits&1 == 0, bits&2 == 0, bits&4 == 0)
			t.Run(name, func(t *testing.T) {
				mine, theirs := newRequest(), newRequest()
				if err := signer.SignHTTP(ctx, aws.Credentials{}, mine, payload, "s3", "us-east-1", at, opt); err != nil {
					t.Fatal(err)
				}
				if err := v4.NewSigner().SignHTTP(ctx, sdkCreds, theirs, payload, "s3", "us-east-1", at, opt); err != nil {
					t.Fatal(err)
				}
				if got, want := mine.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
					t.Fatalf("SignHTTP\n mine %s\n  sdk %s", got, want)
				}

				// Presigning, with the X-Amz-Expires the SDK's presign clients put in the query.
				mine, theirs = newRequest(), newRequest()
				for _, r := range []*http.Request{mine, theirs} {
					r.URL.RawQuery += "&X-Amz-Expires=600"
				}
				gotURL, gotHeader, err := signer.PresignHTTP(ctx, aws.Credentials{}, mine, payload, "s3", "us-east-1", at, opt)
				if err != nil {
					t.Fatal(err)
				}
				wantURL, wantHeader, err := v4.NewSigner().PresignHTTP(ctx, sdkCreds, theirs, payload, "s3", "us-east-1", at, opt)
				if err != nil {
					t.Fatal(err)
				}
				if !sameQuery(t, gotURL, wantURL) || headerNames(gotHeader) != headerNames(wantHeader) {
					t.Fatalf("PresignHTTP\n mine %s %v\n  sdk %s %v", gotURL, gotHeader, wantURL, wantHeader)
				}
			})
		}
	}
}

// sameQuery reports whether two presigned URLs have the same path and query parameters
// (in any order).
func sameQuery(t *testing.T, a, b string) bool {
	t.Helper()
	ua, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := url.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return ua.EscapedPath() == ub.EscapedPath() && ua.Query().Encode() == ub.Query().Encode()
}

func headerNames(h http.Header) string {
	var names []string
	for name := range h {
		names = append(names, strings.ToLower(name))
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
