package devicesign_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/devicesign"
	"github.com/awskeep/awskeep/core/sigv4"
)

// Every client built from the config signs with the device key: no STS, no temporary
// credentials. The profile is the one `awskeep credential-process` reads:
//
//	[profile prod-hsm]
//	region = eu-west-1
//	awskeep_key = pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
//	awskeep_access_key_id = AKIAIOSFODNN7EXAMPLE
func ExampleKey_Apply() {
	ctx := context.Background()
	key, err := devicesign.Open(ctx, devicesign.Options{Profile: "prod-hsm"})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close() // ends the plugin, zeroes the cached signing keys

	var cfg aws.Config // or config.LoadDefaultConfig(ctx)
	key.Apply(&cfg)
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(out.Arn))
}

// With NoSigningKeyCache every request is one HMAC in the device, and so one entry in a
// device's audit log (a YubiHSM 2 logs each operation).
func ExampleOptions_noSigningKeyCache() {
	key, err := devicesign.Open(context.Background(), devicesign.Options{Profile: "prod-hsm", NoSigningKeyCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()
	var cfg aws.Config
	key.Apply(&cfg)
	// ... use clients built from cfg ...
	fmt.Println("device operations:", key.DeviceOperations())
}

// Temporary credentials from STS, signed by the device, refreshed five minutes before they
// expire: AssumeRole when the profile has awskeep_role_arn, else GetSessionToken.
func ExampleKey_CredentialsProvider() {
	ctx := context.Background()
	key, err := devicesign.Open(ctx, devicesign.Options{Profile: "prod-hsm"})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()

	cfg := aws.Config{
		Region: key.Region(),
		Credentials: aws.NewCredentialsCache(key.CredentialsProvider(), func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = 5 * time.Minute
		}),
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(out.Arn))
}

// A presigned S3 GET that anyone can fetch for an hour.
func ExampleKey_Presign() {
	ctx := context.Background()
	key, err := devicesign.Open(ctx, devicesign.Options{Profile: "prod-hsm"})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()

	r, _ := http.NewRequest(http.MethodGet, "https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf", nil)
	url, _, err := key.Presign(ctx, r, sigv4.UnsignedPayload, "s3", "eu-west-1", time.Now(), time.Hour,
		func(o *sigv4.Options) { o.DisableURIPathEscaping = true })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(url)
}

// The SDK's presign clients take the Key's Signer, e.g. for the presigned STS
// GetCallerIdentity that an EKS token carries.
func ExampleKey_Signer() {
	ctx := context.Background()
	key, err := devicesign.Open(ctx, devicesign.Options{Profile: "prod-hsm"})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()

	var cfg aws.Config
	key.Apply(&cfg)
	presigner := sts.NewPresignClient(sts.NewFromConfig(cfg), func(o *sts.PresignOptions) {
		o.Presigner = key.Signer()
	})
	req, err := presigner.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL)
}
