package bench

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkProxy is the cost of `awskeep proxy` per request: the same STS
// GetCallerIdentity from an aws-sdk-go-v2 client, sent straight to moto with alice's
// secret in memory ("direct"), and sent with the proxy's local key to the proxy, which
// verifies it, re-signs it with the SoftHSM key (signing key cached) and forwards it to
// moto ("proxy"). Both over kept-alive connections, one request at a time.
func BenchmarkProxy(b *testing.B) {
	ctx := context.Background()
	call := func(b *testing.B, client *sts.Client) {
		var lat latencies
		for b.Loop() {
			start := time.Now()
			if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		lat.reportTail(b)
	}
	newClient := func(endpoint, akid, secret string) *sts.Client {
		return sts.New(sts.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
			}),
		})
	}
	b.Run("direct", func(b *testing.B) {
		call(b, newClient(moto.URL, alice.AccessKeyID, alice.SecretAccessKey))
	})
	b.Run("proxy", func(b *testing.B) {
		c := newCLI(b, softhsmDevice(b)) // imports alice's secret into a SoftHSM token
		vars := startPrinting(b, c.env, []string{"proxy", "--key", c.args[2], "--access-key-id", alice.AccessKeyID, "--upstream", moto.URL},
			"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
		call(b, newClient(vars["AWS_ENDPOINT_URL"], vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"]))
	})
}
