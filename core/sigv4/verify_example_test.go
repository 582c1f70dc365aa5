package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/sigv4"
)

// A local signing proxy checks each request with the local key pair it gave its clients,
// before it re-signs the request with the device key: the access key ID first (so a
// client with the wrong pair is told so), then the signature, with S3's path rules for
// S3.
func ExampleSigner_VerifyHTTP() {
	ctx := context.Background()
	const localID, localSecret = "AKIDLOCALEXAMPLE", "localSecretOfTheProxyClients"
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

	// What a client such as boto3 sends, signed with the local pair.
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	payloadHash := hex.EncodeToString(sum[:]) // or X-Amz-Content-Sha256 when the client sent it
	client := sigv4.New(sigv4.SoftwareDeriver(localSecret))
	if err := client.SignHTTP(ctx, r, payloadHash, sigv4.Credentials{AccessKeyID: localID}, "sts", "us-east-1", now); err != nil {
		fmt.Println(err)
		return
	}

	// The proxy's check.
	verifier := sigv4.New(sigv4.SoftwareDeriver(localSecret))
	verify := func(r *http.Request) error {
		auth, err := sigv4.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			return err
		}
		if err := auth.CheckAccessKeyID(localID); err != nil {
			return err
		}
		_, err = verifier.VerifyHTTP(ctx, r, payloadHash, now, 0, func(o *sigv4.Options) {
			o.DisableURIPathEscaping = auth.Service == "s3"
		})
		return err
	}
	fmt.Println(verify(r))

	r.Header.Set("Content-Type", "text/plain")
	err := verify(r)
	fmt.Println(errors.Is(err, sigv4.ErrSignatureDoesNotMatch), err)
	// Output:
	// <nil>
	// true sigv4: signature does not match: the signature was not computed over this request with this key
}

// The chunked upload example of the Amazon S3 API Reference ("Signature Calculations for
// the Authorization Header: Transferring Payload in Multiple Chunks"): 66560 bytes of 'a'
// in a 64 KiB and a 1 KiB chunk. The seed and chunk signatures are those of the example.
func ExampleSigner_SignHTTPChunked() {
	signer := sigv4.New(sigv4.SoftwareDeriver("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		func(o *sigv4.Options) { o.DisableURIPathEscaping = true })

	r, _ := http.NewRequest(http.MethodPut, "https://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.ContentLength = 66824 // the encoded length
	chunks, err := signer.SignHTTPChunked(context.Background(), r, sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
		"s3", "us-east-1", time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, seed, _ := strings.Cut(r.Header.Get("Authorization"), "Signature=")
	fmt.Println("seed ", seed)
	data := bytes.Repeat([]byte("a"), 66560)
	for _, chunk := range [][]byte{data[:65536], data[65536:], nil} {
		fmt.Printf("%x;chunk-signature=%s\n", len(chunk), chunks.Sign(chunk))
	}
	// Output:
	// seed  4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9
	// 10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648
	// 400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497
	// 0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9
}
