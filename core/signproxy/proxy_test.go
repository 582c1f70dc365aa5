package signproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/sigv4"
)

// The proxy forwards to moto, which checks the device signature; the "device" here is
// sigv4's software Deriver with alice's secret (core/devicesign and cmd/e2e test the same
// with real devices).
var (
	moto  *mototest.Server
	alice mototest.User
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signproxy test setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "signproxy-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	if moto, err = mototest.StartServer(ctx, tmp); err != nil {
		return 1, err
	}
	defer moto.Stop()
	if alice, err = moto.CreateUser(ctx, "alice", true); err != nil {
		return 1, err
	}
	if err := moto.PutObject(ctx, "proxy-bucket", "hello.txt", "hello through the proxy"); err != nil {
		return 1, err
	}
	if err := moto.EnableAuth(ctx); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// softwareDevice signs as a device holding secret would.
type softwareDevice struct {
	s    *sigv4.Signer
	akid string
}

func newSoftwareDevice(akid, secret string) softwareDevice {
	return softwareDevice{s: sigv4.New(sigv4.SoftwareDeriver(secret)), akid: akid}
}

func (d softwareDevice) SignHTTP(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*sigv4.Options)) error {
	return d.s.SignHTTP(ctx, r, payloadHash, sigv4.Credentials{AccessKeyID: d.akid}, service, region, t, optFns...)
}

func (d softwareDevice) SignHTTPChunked(ctx context.Context, r *http.Request, service, region string, t time.Time, optFns ...func(*sigv4.Options)) (*sigv4.ChunkSigner, error) {
	return d.s.SignHTTPChunked(ctx, r, sigv4.Credentials{AccessKeyID: d.akid}, service, region, t, optFns...)
}

// countingTransport counts what reaches the upstream.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

type testProxy struct {
	url      string
	local    LocalKey
	upstream *countingTransport
}

func startProxy(t *testing.T, device DeviceSigner, optFns ...func(*Options)) testProxy {
	t.Helper()
	local, err := NewLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	upstream, _ := url.Parse(moto.URL)
	counting := &countingTransport{next: http.DefaultTransport}
	opts := Options{Upstream: upstream, Transport: counting}
	for _, fn := range optFns {
		fn(&opts)
	}
	p, err := New(local, device, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.Close() })
	return testProxy{url: srv.URL, local: local, upstream: counting}
}

func stsVia(p testProxy, akid, secret string) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
		}),
		RetryMaxAttempts: 1,
	})
}

func TestProxyForwardsSignedByDevice(t *testing.T) {
	p := startProxy(t, newSoftwareDevice(alice.AccessKeyID, alice.SecretAccessKey))
	out, err := stsVia(p, p.local.AccessKeyID, p.local.SecretAccessKey).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != alice.ARN {
		t.Fatalf("the upstream saw %s, want alice %s", aws.ToString(out.Arn), alice.ARN)
	}
}

func TestProxyRefusesWithoutForwarding(t *testing.T) {
	p := startProxy(t, newSoftwareDevice(alice.AccessKeyID, alice.SecretAccessKey))
	cases := []struct {
		name, akid, secret, code string
	}{
		{"wrong secret", "", "not-the-local-secret-0000000000000000000", "SignatureDoesNotMatch"},
		{"wrong access key", "AKIAOTHERKEY00000000", "", "InvalidClientTokenId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			akid, secret := p.local.AccessKeyID, p.local.SecretAccessKey
			if c.akid != "" {
				akid = c.akid
			}
			if c.secret != "" {
				secret = c.secret
			}
			_, err := stsVia(p, akid, secret).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
			if err == nil || !strings.Contains(err.Error(), c.code) || !strings.Contains(err.Error(), "403") {
				t.Fatalf("got %v, want HTTP 403 %s", err, c.code)
			}
			if strings.Contains(err.Error(), p.local.SecretAccessKey) {
				t.Fatal("the error shows the local secret")
			}
		})
	}
	// Unsigned, and presigned, requests.
	for _, target := range []string{"/", "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"} {
		resp, err := http.Post(p.url+target, "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>MissingAuthenticationToken</Code>") {
			t.Fatalf("unsigned %s: HTTP %d %s", target, resp.StatusCode, body)
		}
	}
	if n := p.upstream.n.Load(); n != 0 {
		t.Fatalf("the upstream received %d refused requests", n)
	}
}

// signS3 signs an S3 request to the proxy with the local key.
func signS3(t *testing.T, p testProxy, r *http.Request, payloadHash string) {
	t.Helper()
	s := sigv4.New(sigv4.SoftwareDeriver(p.local.SecretAccessKey))
	if err := s.SignHTTP(context.Background(), r, payloadHash, sigv4.Credentials{AccessKeyID: p.local.AccessKeyID}, "s3", "us-east-1", time.Now(),
		func(o *sigv4.Options) { o.DisableURIPathEscaping, o.AddContentSHA256Header = true, true }); err != nil {
		t.Fatal(err)
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestProxyS3StreamsBodies(t *testing.T) {
	p := startProxy(t, newSoftwareDevice(alice.AccessKeyID, alice.SecretAccessKey), func(o *Options) { o.MaxBufferedBody = 1024 })
	// A 3 MiB PUT with its hash declared streams through although the buffer bound is 1 KiB.
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
	put, _ := http.NewRequest(http.MethodPut, p.url+"/proxy-bucket/big.bin", bytes.NewReader(body))
	signS3(t, p, put, hexSHA256(body))
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT through the proxy: HTTP %d", resp.StatusCode)
	}
	get, _ := http.NewRequest(http.MethodGet, p.url+"/proxy-bucket/big.bin", nil)
	signS3(t, p, get, sigv4.EmptyPayloadHash)
	resp, err = http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET through the proxy: HTTP %d, %d bytes, want the %d bytes put", resp.StatusCode, len(got), len(body))
	}

	// A body that is not what its declared hash says is cut off, not delivered.
	before := p.upstream.n.Load()
	lie, _ := http.NewRequest(http.MethodPut, p.url+"/proxy-bucket/lie.bin", bytes.NewReader([]byte("the body")))
	signS3(t, p, lie, hexSHA256([]byte("another body")))
	lie.Body = io.NopCloser(bytes.NewReader([]byte("the body")))
	resp, err = http.DefaultClient.Do(lie)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "XAmzContentSHA256Mismatch") {
		t.Fatalf("body with the wrong declared hash: HTTP %d %s", resp.StatusCode, msg)
	}
	if p.upstream.n.Load() != before+1 {
		t.Fatal("the mismatching request was not started upstream exactly once")
	}

	// A body without a declared hash beyond the buffer bound is refused.
	big := strings.Repeat("Action=GetCallerIdentity&", 100)
	post, _ := http.NewRequest(http.MethodPost, p.url+"/", strings.NewReader(big))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s := sigv4.New(sigv4.SoftwareDeriver(p.local.SecretAccessKey))
	s.SignHTTP(context.Background(), post, hexSHA256([]byte(big)), sigv4.Credentials{AccessKeyID: p.local.AccessKeyID}, "sts", "us-east-1", time.Now())
	resp, err = http.DefaultClient.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized unhashed body: HTTP %d, want 413", resp.StatusCode)
	}
}

// TestProxyResignsChunks uploads a body of signed chunks (what Java SDKs and MinIO clients
// send) through the proxy.
func TestProxyResignsChunks(t *testing.T) {
	p := startProxy(t, newSoftwareDevice(alice.AccessKeyID, alice.SecretAccessKey))
	data := bytes.Repeat([]byte("x"), 200<<10)
	const chunk = 64 << 10
	encodedLen := 0
	sizes := []int{}
	for off := 0; off < len(data); off += chunk {
		sizes = append(sizes, min(chunk, len(data)-off))
	}
	sizes = append(sizes, 0)
	for _, n := range sizes {
		encodedLen += len(fmt.Sprintf("%x", n)) + len(";chunk-signature=") + 64 + 2 + n + 2
	}
	r, _ := http.NewRequest(http.MethodPut, p.url+"/proxy-bucket/chunked.bin", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
	r.ContentLength = int64(encodedLen)
	s := sigv4.New(sigv4.SoftwareDeriver(p.local.SecretAccessKey))
	cs, err := s.SignHTTPChunked(context.Background(), r, sigv4.Credentials{AccessKeyID: p.local.AccessKeyID}, "s3", "us-east-1", time.Now(),
		func(o *sigv4.Options) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	off := 0
	for _, n := range sizes {
		part := data[off : off+n]
		off += n
		fmt.Fprintf(&enc, "%x;chunk-signature=%s\r\n", n, cs.Sign(part))
		enc.Write(part)
		enc.WriteString("\r\n")
	}
	if enc.Len() != encodedLen {
		t.Fatalf("encoded %d bytes, computed %d", enc.Len(), encodedLen)
	}
	r.Body = io.NopCloser(&enc)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chunked PUT through the proxy: HTTP %d %s", resp.StatusCode, msg)
	}
	get, _ := http.NewRequest(http.MethodGet, p.url+"/proxy-bucket/chunked.bin", nil)
	signS3(t, p, get, sigv4.EmptyPayloadHash)
	resp, err = http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("GET after the chunked PUT: %d bytes, want %d", len(got), len(data))
	}
}

func TestNewRefusesUpstreamWithPath(t *testing.T) {
	for _, raw := range []string{"ftp://x", "http://", "http://h/path", "http://u:p@h"} {
		u, _ := url.Parse(raw)
		if _, err := New(LocalKey{}, nil, Options{Upstream: u}); err == nil {
			t.Errorf("upstream %s accepted", raw)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("error shows the upstream's password: %v", err)
		}
	}
}

func TestLocalKey(t *testing.T) {
	a, err := NewLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewLocalKey()
	if a == b || len(a.AccessKeyID) != 20 || len(a.SecretAccessKey) != 40 || !strings.HasPrefix(a.AccessKeyID, "AKIA") {
		t.Fatalf("keys %v %v", a, b)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", a, a, a, a); strings.Contains(s, a.SecretAccessKey) {
		t.Fatalf("formatting shows the secret: %s", s)
	}
}

// TestTargetWithoutUpstream: without --upstream a request goes to its service's AWS
// endpoint, and a global service is signed for the region that endpoint takes.
func TestTargetWithoutUpstream(t *testing.T) {
	p, err := New(LocalKey{}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ service, region, host, signRegion string }{
		{"sts", "eu-west-1", "sts.eu-west-1.amazonaws.com", "eu-west-1"},
		{"s3", "us-east-1", "s3.us-east-1.amazonaws.com", "us-east-1"},
		{"iam", "eu-west-1", "iam.amazonaws.com", "us-east-1"},
		{"ses", "eu-central-1", "email.eu-central-1.amazonaws.com", "eu-central-1"},
	} {
		u, service, region, err := p.target(c.service, c.region)
		if err != nil || u.Host != c.host || service != c.service || region != c.signRegion {
			t.Errorf("target(%s, %s) = %v %s %s %v, want %s signed for %s", c.service, c.region, u, service, region, err, c.host, c.signRegion)
		}
	}
	if _, _, _, err := p.target("sts", "not-a-region"); err == nil {
		t.Error("a scope without an endpoint was accepted")
	}
}

// TestProxyRefusesTrailingChecksums: an S3 upload with trailing checksums (what recent SDKs
// send over HTTPS), which the proxy does not re-sign, gets 501 with an S3 error body that
// says what to change, and nothing reaches the upstream.
func TestProxyRefusesTrailingChecksums(t *testing.T) {
	p := startProxy(t, newSoftwareDevice(alice.AccessKeyID, alice.SecretAccessKey))
	for _, payload := range []string{sigv4.StreamingUnsignedPayloadTrailer, sigv4.StreamingPayloadTrailer} {
		t.Run(payload, func(t *testing.T) {
			data := "hello"
			body := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", len(data), data)
			r, _ := http.NewRequest(http.MethodPut, p.url+"/proxy-bucket/trailer.bin", strings.NewReader(body))
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			signS3(t, p, r, payload)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(msg), "<Code>NotImplemented</Code>") ||
				!strings.Contains(string(msg), "trailing checksums") || !strings.Contains(string(msg), "request_checksum_calculation = when_required") {
				t.Fatalf("upload with %s: HTTP %d %s, want 501 NotImplemented naming trailing checksums and the client setting", payload, resp.StatusCode, msg)
			}
			if n := p.upstream.n.Load(); n != 0 {
				t.Fatalf("the upstream received %d refused uploads", n)
			}
		})
	}
}
