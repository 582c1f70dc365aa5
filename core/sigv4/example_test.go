package sigv4_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/sigv4"
)

// The key chain's first step comes from a Deriver; in awskeep that is a device behind a
// plugin, here the software one.
func ExampleSigner_SignHTTP() {
	signer := sigv4.New(sigv4.SoftwareDeriver("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))

	body := "Action=GetSessionToken&Version=2011-06-15"
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	sum := sha256.Sum256([]byte(body))
	err := signer.SignHTTP(context.Background(), r, hex.EncodeToString(sum[:]),
		sigv4.Credentials{AccessKeyID: "AKIDEXAMPLE"}, "sts", "us-east-1",
		time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Header.Get("X-Amz-Date"))
	fmt.Println(strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ",\n  "))
	// Output:
	// 20150830T123600Z
	// AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request,
	//   SignedHeaders=content-length;content-type;host;x-amz-date,
	//   Signature=fec5a704861c8a5a5b280f581c0ec0e2b9cf0c2254214ef6df6f2b9ed64acbff
}

// The presigned-URL example of the Amazon S3 API Reference ("Authenticating Requests: Using
// Query Parameters"); it gives the signature printed here.
func ExampleSigner_PresignHTTP() {
	signer := sigv4.New(sigv4.SoftwareDeriver("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))

	r, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	signedURL, signedHeader, err := signer.PresignHTTP(context.Background(), r, sigv4.UnsignedPayload,
		sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, "s3", "us-east-1",
		time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC), 24*time.Hour,
		func(o *sigv4.Options) { o.DisableURIPathEscaping = true })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.ReplaceAll(signedURL, "&", "\n  &"))
	fmt.Println(signedHeader)
	// Output:
	// https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256
	//   &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request
	//   &X-Amz-Date=20130524T000000Z
	//   &X-Amz-Expires=86400
	//   &X-Amz-SignedHeaders=host
	//   &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404
	// map[Host:[examplebucket.s3.amazonaws.com]]
}
