package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// A typical request of awskeep: an STS AssumeRole form POST as aws-sdk-go-v2 service/sts
// builds it, signed with long-term credentials.
const benchSTSBody = "Action=AssumeRole&DurationSeconds=3600&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=awskeep&Version=2011-06-15"

func newBenchSTSRequest(b *testing.B) (*http.Request, string) {
	b.Helper()
	r, err := http.NewRequest(http.MethodPost, "https://sts.us-east-1.amazonaws.com/", strings.NewReader(benchSTSBody))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/sts#1.51.8")
	r.Header.Set("Amz-Sdk-Invocation-Id", "5b4e7d52-0a4b-4d43-9a0e-3c8f3f6c1a11")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sum := sha256.Sum256([]byte(benchSTSBody))
	return r, hex.EncodeToString(sum[:])
}

// resetSigned removes what a previous iteration's signing added.
func resetSigned(r *http.Request) {
	r.Header.Del("Authorization")
	r.Header.Del("X-Amz-Date")
}

// benchTime is today: the signing-key cache keeps no key of a date that has ended.
var benchTime = time.Now().UTC()

// BenchmarkSDKSigner is the reference: aws-sdk-go-v2 v4.Signer with the secret in software.
// The SDK caches the derived signing key per region/service and day, so this is its
// steady state.
func BenchmarkSDKSigner(b *testing.B) {
	r, payloadHash := newBenchSTSRequest(b)
	s := sdkv4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testSecret}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resetSigned(r)
		if err := s.SignHTTP(ctx, creds, r, payloadHash, "sts", "us-east-1", benchTime); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitSigner is this package with SoftwareDeriver: cache=off derives the whole key
// chain per request (a device would be asked for kDate every time), cache=on reuses
// kSigning. Plugin-backed Derivers are benchmarked where the plugins are.
func BenchmarkSplitSigner(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache bool
	}{{"cache=off", false}, {"cache=on", true}} {
		b.Run(bc.name, func(b *testing.B) {
			r, payloadHash := newBenchSTSRequest(b)
			s := New(SoftwareDeriver(testSecret), func(o *Options) { o.CacheSigningKey = bc.cache })
			creds := Credentials{AccessKeyID: "AKIDEXAMPLE"}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resetSigned(r)
				if err := s.SignHTTP(ctx, r, payloadHash, creds, "sts", "us-east-1", benchTime); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
