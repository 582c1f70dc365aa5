package sts

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/awskeep/awskeep/core/creds"
)

// GetSessionTokenInput are the parameters of GetSessionToken.
type GetSessionTokenInput struct {
	// Duration of the credentials; zero leaves STS's default (12 h).
	Duration time.Duration
	// SerialNumber and TokenCode are the MFA device ARN and its current code.
	SerialNumber, TokenCode string
}

// AssumeRoleInput are the parameters of AssumeRole.
type AssumeRoleInput struct {
	RoleARN         string
	RoleSessionName string
	// Duration of the credentials; zero leaves STS's default (1 h).
	Duration       time.Duration
	ExternalID     string
	SerialNumber   string
	TokenCode      string
	SourceIdentity string
	// Tags are session tags (sts:TagSession).
	Tags map[string]string
}

// AssumeRoleWithSAMLInput are the parameters of AssumeRoleWithSAML.
type AssumeRoleWithSAMLInput struct {
	RoleARN, PrincipalARN string
	// SAMLAssertion is the base64 SAMLResponse from the identity provider. It is a bearer
	// credential until it expires: it never goes into errors or logs.
	SAMLAssertion string
	// Duration of the credentials; zero leaves STS's default (1 h, or the assertion's
	// SessionDuration).
	Duration time.Duration
}

// Identity is what GetCallerIdentity returns.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// GetSessionToken returns temporary credentials for the key's own user
// (STS API Reference: GetSessionToken).
func (c *Client) GetSessionToken(ctx context.Context, in GetSessionTokenInput) (creds.Credentials, error) {
	ctx, capture := withCapture(ctx)
	out, err := c.api.GetSessionToken(ctx, &awssts.GetSessionTokenInput{
		DurationSeconds: seconds(in.Duration),
		SerialNumber:    optional(in.SerialNumber),
		TokenCode:       optional(in.TokenCode),
	})
	if err != nil {
		return creds.Credentials{}, explain("GetSessionToken", err, capture)
	}
	return c.plausible("GetSessionToken", out.Credentials)
}

// AssumeRole returns temporary credentials for a role (STS API Reference: AssumeRole).
func (c *Client) AssumeRole(ctx context.Context, in AssumeRoleInput) (creds.Credentials, error) {
	req := &awssts.AssumeRoleInput{
		RoleArn:         aws.String(in.RoleARN),
		RoleSessionName: aws.String(in.RoleSessionName),
		DurationSeconds: seconds(in.Duration),
		ExternalId:      optional(in.ExternalID),
		SerialNumber:    optional(in.SerialNumber),
		TokenCode:       optional(in.TokenCode),
		SourceIdentity:  optional(in.SourceIdentity),
	}
	for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
		req.Tags = append(req.Tags, types.Tag{Key: aws.String(k), Value: aws.String(in.Tags[k])})
	}
	ctx, capture := withCapture(ctx)
	out, err := c.api.AssumeRole(ctx, req)
	if err != nil {
		return creds.Credentials{}, explain("AssumeRole", err, capture)
	}
	return c.plausible("AssumeRole", out.Credentials)
}

// AssumeRoleWithSAML exchanges a SAML assertion for a role's temporary credentials (STS
// API Reference: AssumeRoleWithSAML). The call is unsigned: use a Client from NewUnsigned.
func (c *Client) AssumeRoleWithSAML(ctx context.Context, in AssumeRoleWithSAMLInput) (creds.Credentials, error) {
	ctx, capture := withCapture(ctx)
	out, err := c.api.AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
		RoleArn:         aws.String(in.RoleARN),
		PrincipalArn:    aws.String(in.PrincipalARN),
		SAMLAssertion:   aws.String(in.SAMLAssertion),
		DurationSeconds: seconds(in.Duration),
	})
	if err != nil {
		return creds.Credentials{}, explain("AssumeRoleWithSAML", err, capture)
	}
	return c.plausible("AssumeRoleWithSAML", out.Credentials)
}

// GetCallerIdentity says whose key this is (STS API Reference: GetCallerIdentity).
func (c *Client) GetCallerIdentity(ctx context.Context) (Identity, error) {
	ctx, capture := withCapture(ctx)
	out, err := c.api.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, explain("GetCallerIdentity", err, capture)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, nil
}

func fromSDK(c *types.Credentials) (creds.Credentials, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return creds.Credentials{}, fmt.Errorf("sts: response holds no complete credentials")
	}
	return creds.Credentials{
		AccessKeyID:     *c.AccessKeyId,
		SecretAccessKey: *c.SecretAccessKey,
		SessionToken:    *c.SessionToken,
		Expiration:      c.Expiration.UTC(),
	}, nil
}

func seconds(d time.Duration) *int32 {
	if d == 0 {
		return nil
	}
	return aws.Int32(int32(d / time.Second))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// MaxLifetime is the longest lifetime STS grants (GetSessionToken, 36 hours); credentials
// said to live longer are not from STS as documented and are refused.
const MaxLifetime = 36 * time.Hour

// clockSlack absorbs the difference between STS's clock and this one.
const clockSlack = 5 * time.Minute

// plausible converts the answer and refuses credentials that are already expired or that
// claim to live longer than STS grants: printed or cached, either would only fail later and
// further from the cause (a wrong endpoint, a clock far off).
func (c *Client) plausible(op string, sdk *types.Credentials) (creds.Credentials, error) {
	out, err := fromSDK(sdk)
	if err != nil {
		return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS "+op, err)
	}
	now := c.now()
	switch {
	case !out.Expiration.After(now):
		return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS "+op, fmt.Errorf("the credentials returned expired at %s, before they arrived (now %s): check this machine's clock and the endpoint",
			out.Expiration.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	case out.Expiration.After(now.Add(MaxLifetime + clockSlack)):
		return creds.Credentials{}, creds.Wrap(creds.ClassSTS, "STS "+op, fmt.Errorf("the credentials returned expire at %s, more than %v from now: STS never grants that; check the endpoint and this machine's clock",
			out.Expiration.Format(time.RFC3339), MaxLifetime))
	}
	return out, nil
}
