package devicesign

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/sigv4"
)

// DefaultPresignExpiry is the validity of a presigned URL whose request does not say
// (aws-sdk-go-v2's presign clients always put X-Amz-Expires in the query).
const DefaultPresignExpiry = 15 * time.Minute

// Signer signs for aws-sdk-go-v2 with the device key. Its SignHTTP has the signature of
// every service package's HTTPSignerV4 option and its PresignHTTP that of the presign
// clients' HTTPPresignerV4 (s3.PresignOptions.Presigner, sts.PresignOptions.Presigner).
//
// The credentials the SDK passes in are ignored: requests are signed as the Key's access
// key ID, without a session token.
type Signer struct {
	k *Key
}

// Signer returns the Key's signer for service client options that Apply does not reach
// (a presign client's Presigner, a client built with New instead of NewFromConfig).
func (k *Key) Signer() Signer { return Signer{k} }

var (
	_ v4.HTTPSigner    = Signer{}
	_ v4.HTTPPresigner = Signer{}
)

// SignHTTP signs r like v4.Signer.SignHTTP, forwarding the SDK's options:
// DisableURIPathEscaping (S3), DisableHeaderHoisting, DisableSessionToken, and
// LogSigning with Logger (the canonical request and string to sign at debug level).
// payloadHash may be a hex SHA-256 or one of the SDK's markers (UNSIGNED-PAYLOAD,
// STREAMING-UNSIGNED-PAYLOAD-TRAILER), which are signed as given.
func (s Signer) SignHTTP(ctx context.Context, _ aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.k.signHTTP(ctx, r, payloadHash, service, region, signingTime, sdkOptions(optFns))
}

// PresignHTTP presigns r like v4.Signer.PresignHTTP: the validity comes from the
// X-Amz-Expires query parameter the presign clients set (DefaultPresignExpiry without one).
func (s Signer) PresignHTTP(ctx context.Context, _ aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	expires := DefaultPresignExpiry
	q := r.URL.Query()
	if v := q.Get("X-Amz-Expires"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return "", nil, fmt.Errorf("devicesign: presign: X-Amz-Expires %q is not a positive number of seconds", v)
		}
		expires = time.Duration(n) * time.Second
		// sigv4 sets X-Amz-Expires itself; take the caller's out of the query it copies.
		q.Del("X-Amz-Expires")
		u := *r.URL
		u.RawQuery = q.Encode()
		r = r.Clone(ctx)
		r.URL = &u
	}
	return s.k.presign(ctx, r, payloadHash, service, region, signingTime, expires, sdkOptions(optFns))
}

// SignHTTP signs a raw request r for service in region at time t with the device key,
// adding X-Amz-Date and Authorization (see sigv4.Signer.SignHTTP). payloadHash is the hex
// SHA-256 of the body, sigv4.EmptyPayloadHash or sigv4.UnsignedPayload (S3 only). optFns
// adjust the signing (DisableURIPathEscaping for S3, AddContentSHA256Header).
func (k *Key) SignHTTP(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*sigv4.Options)) error {
	return k.signHTTP(ctx, r, payloadHash, service, region, t, optFns)
}

// Presign returns a URL for r, valid for expires from t (at most 7 days), that anyone can
// use without credentials, and the headers that must be sent with it (see
// sigv4.Signer.PresignHTTP). For S3, pass sigv4.UnsignedPayload and DisableURIPathEscaping.
func (k *Key) Presign(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, expires time.Duration, optFns ...func(*sigv4.Options)) (string, http.Header, error) {
	return k.presign(ctx, r, payloadHash, service, region, t, expires, optFns)
}

func (k *Key) signHTTP(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, optFns []func(*sigv4.Options)) error {
	if k.closed.Load() {
		return ErrClosed
	}
	return k.explain(k.signer.SignHTTP(ctx, r, payloadHash, k.public(), service, region, t, optFns...))
}

func (k *Key) presign(ctx context.Context, r *http.Request, payloadHash, service, region string, t time.Time, expires time.Duration, optFns []func(*sigv4.Options)) (string, http.Header, error) {
	if k.closed.Load() {
		return "", nil, ErrClosed
	}
	u, h, err := k.signer.PresignHTTP(ctx, r, payloadHash, k.public(), service, region, t, expires, optFns...)
	return u, h, k.explain(err)
}

func (k *Key) public() sigv4.Credentials {
	return sigv4.Credentials{AccessKeyID: k.settings.AccessKeyID}
}

// explain marks a signing error that no layer classified (a request sigv4 refuses) as a
// configuration error of the caller; device and plugin errors are classified already.
func (k *Key) explain(err error) error {
	if err == nil || creds.ClassOf(err) != creds.ClassUnknown {
		return err
	}
	return creds.Wrap(creds.ClassConfig, "", err)
}

// sdkOptions turns the SDK's per-call signer options into sigv4's.
func sdkOptions(optFns []func(*v4.SignerOptions)) []func(*sigv4.Options) {
	if len(optFns) == 0 {
		return nil
	}
	var so v4.SignerOptions
	for _, fn := range optFns {
		fn(&so)
	}
	return []func(*sigv4.Options){func(o *sigv4.Options) {
		o.DisableURIPathEscaping = so.DisableURIPathEscaping
		o.DisableHeaderHoisting = so.DisableHeaderHoisting
		o.DisableSessionToken = so.DisableSessionToken
		if so.LogSigning && so.Logger != nil {
			logger := so.Logger
			o.Trace = func(canonicalRequest, stringToSign string) {
				// The layout of aws-sdk-go-v2's own signing log.
				logger.Logf(logging.Debug, "Request Signature:\n---[ CANONICAL STRING  ]-----------------------------\n%s\n---[ STRING TO SIGN ]--------------------------------\n%s\n-----------------------------------------------------", canonicalRequest, stringToSign)
			}
		}
	}}
}

// SignHTTPChunked signs r for a body sent as signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
// S3 uploads of unknown length) and returns the ChunkSigner for its chunks; see
// sigv4.Signer.SignHTTPChunked. The header and the chunks share one device operation, none
// when the signing-key cache has the key.
func (k *Key) SignHTTPChunked(ctx context.Context, r *http.Request, service, region string, t time.Time, optFns ...func(*sigv4.Options)) (*sigv4.ChunkSigner, error) {
	if k.closed.Load() {
		return nil, ErrClosed
	}
	cs, err := k.signer.SignHTTPChunked(ctx, r, k.public(), service, region, t, optFns...)
	return cs, k.explain(err)
}
