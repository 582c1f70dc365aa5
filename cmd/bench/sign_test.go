package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/example"
)

const (
	benchSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	benchAKID   = "AKIAIOSFODNN7EXAMPLE"
	stsBody     = "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer&RoleSessionName=bench&Version=2011-06-15"
)

// stsRequest is the request credential-process signs: a form-encoded AssumeRole POST.
func stsRequest() (*http.Request, string) {
	r, _ := http.NewRequest(http.MethodPost, "https://sts.us-east-1.amazonaws.com/", strings.NewReader(stsBody))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(stsBody))
	return r, hex.EncodeToString(sum[:])
}

// launch starts a plugin from pluginDir and ends it with the benchmark.
func launch(b *testing.B, name string, env ...string) *plugins.Plugin {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugins.Launch(ctx, pluginDir+"/awskeep-plugin-"+name, func(o *plugins.LaunchOptions) { o.Env = env })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	return p
}

func importKey(b *testing.B, be plugins.Backend, key plugins.Key) {
	b.Helper()
	if err := be.ImportKey(context.Background(), key, devicekey.Material(benchSecret), plugins.ImportOptions{Overwrite: true}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSign signs the STS request once per iteration: aws-sdk-go-v2's software signer,
// then the split signer with kDate from the example backend in process and over a plugin
// subprocess, each with and without the derived-key cache. A fresh signing time per
// iteration would defeat every cache; the time is fixed, as it is within one day, and
// today's (the cache keeps no key of an ended day).
func BenchmarkSign(b *testing.B) {
	now := time.Now().UTC()
	ctx := context.Background()
	b.Run("sdk-software", func(b *testing.B) {
		s := v4.NewSigner()
		creds := aws.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
		for b.Loop() {
			r, hash := stsRequest()
			if err := s.SignHTTP(ctx, creds, r, hash, "sts", "us-east-1", now); err != nil {
				b.Fatal(err)
			}
		}
	})
	backends := map[string]func(b *testing.B) plugins.Backend{
		"inprocess": func(*testing.B) plugins.Backend { return example.New() },
		"plugin":    func(b *testing.B) plugins.Backend { return launch(b, "example") },
	}
	for _, where := range []string{"inprocess", "plugin"} {
		for _, cache := range []bool{false, true} {
			b.Run(fmt.Sprintf("split-%s/cache=%v", where, cache), func(b *testing.B) {
				be := backends[where](b)
				key := plugins.Key{URI: "example:name=bench"}
				importKey(b, be, key)
				s := sigv4.New(devicekey.Deriver(be, key), func(o *sigv4.Options) { o.CacheSigningKey = cache })
				for b.Loop() {
					r, hash := stsRequest()
					if err := s.SignHTTP(ctx, r, hash, sigv4.Credentials{AccessKeyID: benchAKID}, "sts", "us-east-1", now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
