package rotate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/awskeep/awskeep/core/profile"
	"github.com/awskeep/awskeep/core/sigv4"
)

// IAMEndpoint returns the IAM endpoint URL configured for p as the AWS CLI finds it
// (botocore configprovider.EndpointConfigProvider; AWS SDKs and Tools Reference Guide,
// "Service-specific endpoints"): $AWS_ENDPOINT_URL_IAM, then $AWS_ENDPOINT_URL, then the
// profile's endpoint_url; none of them when $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
// "" means AWS's own endpoint (https://iam.amazonaws.com in the aws partition, which the
// SDK resolves from the region). An iam entry of the profile's [services] section is not
// read (package profile reads only the sts entry): set $AWS_ENDPOINT_URL_IAM instead.
func IAMEndpoint(p *profile.Profile, getenv func(string) string) string {
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	for _, v := range []string{getenv("AWS_ENDPOINT_URL_IAM"), getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return v
		}
	}
	if p != nil {
		return p.EndpointURL
	}
	return ""
}

// deviceSigner signs aws-sdk-go-v2 requests with a key in a device (the SDK's HTTPSignerV4
// option), as core/devicesign does for a whole aws.Config; rotate needs two keys on one
// plugin, so it builds its own.
type deviceSigner struct{ s *sigv4.Signer }

func (d deviceSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, optFns ...func(*v4.SignerOptions)) error {
	var o v4.SignerOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return d.s.SignHTTP(ctx, r, payloadHash, sigv4.Credentials{AccessKeyID: c.AccessKeyID}, service, region, t,
		func(so *sigv4.Options) { so.DisableURIPathEscaping = o.DisableURIPathEscaping })
}

// iamAPI is the part of IAM a rotation calls.
type iamAPI struct {
	api      *iam.Client
	endpoint string // for messages: the configured URL, or "IAM"
}

// newIAM returns an IAM client that signs as accessKeyID with kDate from d. The SDK does
// not retry: a CreateAccessKey whose answer was lost must not be sent again (it would make
// a key nobody knows the secret of); the journal and the next run take care of failures.
func newIAM(d sigv4.Deriver, accessKeyID, region, endpoint string, client *http.Client) *iamAPI {
	public := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: accessKeyID, Source: "awskeep device key"}, nil
	})
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport}
	}
	wrapped := *client
	next := wrapped.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	wrapped.Transport = capturingTransport{next: next}
	api := iam.New(iam.Options{
		Region:           region,
		Credentials:      public,
		HTTPSignerV4:     deviceSigner{sigv4.New(d)},
		RetryMaxAttempts: 1,
		HTTPClient:       &wrapped,
	}, func(o *iam.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	name := endpoint
	if name == "" {
		name = "AWS"
	}
	return &iamAPI{api: api, endpoint: name}
}

// accessKey is one of the user's access keys.
type accessKey struct {
	ID, Status, UserName string
	Created              time.Time
}

func (c *iamAPI) list(ctx context.Context, userName string) ([]accessKey, error) {
	in := &iam.ListAccessKeysInput{}
	if userName != "" {
		in.UserName = aws.String(userName)
	}
	var keys []accessKey
	for p := iam.NewListAccessKeysPaginator(c.api, in); p.HasMorePages(); {
		ctx, capture := withCapture(ctx)
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, c.explain("ListAccessKeys", err, capture)
		}
		for _, m := range out.AccessKeyMetadata {
			keys = append(keys, accessKey{ID: aws.ToString(m.AccessKeyId), Status: string(m.Status),
				UserName: aws.ToString(m.UserName), Created: aws.ToTime(m.CreateDate)})
		}
	}
	return keys, nil
}

// create asks IAM for a new access key. The secret is handed to use and then dropped: it is
// never returned, so it cannot reach a log, an error or the journal by accident.
func (c *iamAPI) create(ctx context.Context, userName string, use func(id string, secret []byte) error) (string, error) {
	in := &iam.CreateAccessKeyInput{}
	if userName != "" {
		in.UserName = aws.String(userName)
	}
	ctx, capture := withCapture(ctx)
	out, err := c.api.CreateAccessKey(ctx, in)
	if err != nil {
		return "", c.explain("CreateAccessKey", err, capture)
	}
	if out.AccessKey == nil || !accessKeyID(aws.ToString(out.AccessKey.AccessKeyId)) || aws.ToString(out.AccessKey.SecretAccessKey) == "" {
		return "", fmt.Errorf("IAM CreateAccessKey at %s: the answer holds no access key id or secret", c.endpoint)
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	secret := []byte(aws.ToString(out.AccessKey.SecretAccessKey))
	out.AccessKey.SecretAccessKey = nil
	defer clear(secret)
	return id, use(id, secret)
}

func (c *iamAPI) setStatus(ctx context.Context, userName, id string, status types.StatusType) error {
	in := &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: status}
	if userName != "" {
		in.UserName = aws.String(userName)
	}
	ctx, capture := withCapture(ctx)
	_, err := c.api.UpdateAccessKey(ctx, in)
	return c.explain("UpdateAccessKey "+id, err, capture)
}

// remove deletes access key id; a key already gone is success.
func (c *iamAPI) remove(ctx context.Context, userName, id string) error {
	in := &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)}
	if userName != "" {
		in.UserName = aws.String(userName)
	}
	ctx, capture := withCapture(ctx)
	_, err := c.api.DeleteAccessKey(ctx, in)
	err = c.explain("DeleteAccessKey "+id, err, capture)
	var ie *IAMError
	if errors.As(err, &ie) && ie.Code == "NoSuchEntity" {
		return nil
	}
	return err
}

// IAMError is IAM's refusal of a call, or a failure to reach it, with what to do.
type IAMError struct {
	Operation string
	Code      string // the IAM error code; "" when IAM was not reached
	Message   string // IAM's message, quoted in Error
	Hint      string
	Err       error
}

func (e *IAMError) Error() string {
	s := "IAM " + e.Operation
	switch {
	case e.Code != "" && e.Message != "":
		s += ": " + e.Code + ": " + fmt.Sprintf("%q", e.Message)
	case e.Code != "":
		s += ": " + e.Code
	case e.Err != nil:
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *IAMError) Unwrap() error { return e.Err }

// explain classifies an IAM failure: the sentinels of errors.go, and a hint.
func (c *iamAPI) explain(op string, err error, capture *errorCapture) error {
	if err == nil {
		return nil
	}
	e := &IAMError{Operation: op}
	var api smithy.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &api):
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
		if e.Code == "UnknownError" && capture.code != "" {
			e.Code, e.Message = capture.code, capture.message
		}
		switch e.Code {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			e.Err = ErrAccessDenied
			e.Hint = "the IAM user needs iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey on itself; docs/rotate.md has the policy"
		case "LimitExceeded", "LimitExceededException":
			e.Err = ErrKeyLimit
			e.Hint = "an IAM user has at most two access keys: delete the one awskeep does not use (aws iam list-access-keys, aws iam delete-access-key --access-key-id ID)"
		case "InvalidClientTokenId", "SignatureDoesNotMatch":
			e.Err = ErrKeyRefused
			e.Hint = "IAM does not accept the key: it may be inactive or deleted, or the device holds another secret"
		default:
			e.Err = ErrIAM
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.Err = fmt.Errorf("%w: no answer in time (raise --timeout if it is slow): %w", ErrUnreachable, context.DeadlineExceeded)
	case errors.As(err, &netErr):
		e.Err = fmt.Errorf("%w: %s: %v", ErrUnreachable, c.endpoint, netErr)
	default:
		var se *smithy.OperationError
		if errors.As(err, &se) {
			e.Err = fmt.Errorf("%w: %s: %v", ErrUnreachable, c.endpoint, se.Err)
		} else {
			e.Err = fmt.Errorf("%w: %v", ErrIAM, err)
		}
	}
	return e
}
