package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"regexp"
	"time"

	"github.com/awskeep/awskeep/core/cache"
	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/devicekey"
	"github.com/awskeep/awskeep/core/sts"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

// credentialProcessInput is what `awskeep credential-process` takes.
type credentialProcessInput struct {
	device          deviceFlags
	accessKeyID     string
	roleARN         string
	roleSessionName string
	externalID      string
	duration        time.Duration
	mfaSerial       string
	mfaCode         string
	region          string
	endpointURL     string
	noCache         bool
}

func (in *credentialProcessInput) bind(fs *flag.FlagSet) {
	fs.StringVar(&in.accessKeyID, "access-key-id", "", "the access key ID whose secret the device holds (required)")
	fs.StringVar(&in.roleARN, "role-arn", "", "assume this role (AssumeRole); without it, GetSessionToken")
	fs.StringVar(&in.roleSessionName, "role-session-name", "", "session name for AssumeRole (default awskeep-USER)")
	fs.StringVar(&in.externalID, "external-id", "", "external ID for AssumeRole")
	fs.DurationVar(&in.duration, "duration", time.Hour, "lifetime of the temporary credentials (15m to 12h; 36h for GetSessionToken)")
	fs.StringVar(&in.mfaSerial, "mfa-serial", "", "ARN or serial of the MFA device")
	fs.StringVar(&in.mfaCode, "mfa-code", "", "current code of the MFA device")
	fs.StringVar(&in.region, "region", "", "STS region (default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
	fs.StringVar(&in.endpointURL, "endpoint-url", "", "STS endpoint (default $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, AWS)")
	fs.BoolVar(&in.noCache, "no-cache", false, "neither read nor write the credential cache")
}

var (
	accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	notSessionNameChar = regexp.MustCompile(`[^\w+=,.@-]`)
)

// check validates the flags and fills in defaults from the environment.
func (in *credentialProcessInput) check(e *env) error {
	switch {
	case in.accessKeyID == "":
		return &usageError{"--access-key-id is required"}
	case !accessKeyIDPattern.MatchString(in.accessKeyID):
		return &usageError{"--access-key-id is not an AWS access key ID (16 to 128 upper-case letters and digits)"}
	case (in.mfaSerial == "") != (in.mfaCode == ""):
		return &usageError{"--mfa-serial and --mfa-code go together"}
	case in.roleARN == "" && (in.roleSessionName != "" || in.externalID != ""):
		return &usageError{"--role-session-name and --external-id need --role-arn"}
	}
	maxDuration := 12 * time.Hour
	if in.roleARN == "" {
		maxDuration = 36 * time.Hour
	}
	if in.duration < 15*time.Minute || in.duration > maxDuration || in.duration%time.Second != 0 {
		return &usageError{fmt.Sprintf("--duration %v is outside 15m to %v (whole seconds)", in.duration, maxDuration)}
	}
	if in.roleARN != "" && in.roleSessionName == "" {
		in.roleSessionName = defaultSessionName()
	}
	if in.roleSessionName != "" && !sessionNamePattern.MatchString(in.roleSessionName) {
		return &usageError{"--role-session-name must be 2 to 64 of A-Z a-z 0-9 +=,.@_-"}
	}
	in.region = firstNonEmpty(in.region, e.getenv("AWS_REGION"), e.getenv("AWS_DEFAULT_REGION"), sts.DefaultRegion)
	in.endpointURL = firstNonEmpty(in.endpointURL, e.getenv("AWS_ENDPOINT_URL_STS"), e.getenv("AWS_ENDPOINT_URL"))
	return nil
}

// defaultSessionName is awskeep-USER, trimmed to what STS accepts.
func defaultSessionName() string {
	name := "awskeep"
	if u, err := user.Current(); err == nil {
		name += "-" + notSessionNameChar.ReplaceAllString(u.Username, "_")
	}
	return name[:min(len(name), 64)]
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// runCredentialProcess prints credential_process JSON for temporary credentials: from the
// cache while more than 15 minutes remain (no plugin is started), else from STS signed by
// the device.
func runCredentialProcess(ctx context.Context, args []string, e *env) error {
	var in credentialProcessInput
	fs := newFlagSet("credential-process", e)
	in.device.bind(fs)
	in.bind(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	u, err := in.device.parseKey()
	if err != nil {
		return err
	}
	if err := in.check(e); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, in.device.timeout)
	defer cancel()

	fetch := func(ctx context.Context) (cache.Credentials, error) { return fetchCredentials(ctx, u, in, e) }
	var creds cache.Credentials
	if in.noCache {
		creds, err = fetch(ctx)
	} else {
		var c *cache.Cache
		c, err = openCache(e)
		if err != nil {
			return fmt.Errorf("credential cache: %w", err)
		}
		creds, _, err = c.GetOrFetch(ctx, cacheKey(u, in), fetch)
	}
	if err != nil {
		return err
	}
	out, err := credproc.Marshal(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, creds.Expiration)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	_, err = e.stdout.Write(out)
	return err
}

func cacheKey(u *keyuri.URI, in credentialProcessInput) cache.Key {
	return cache.Key{
		KeyURI: u.WithoutSecrets().String(), AccessKeyID: in.accessKeyID,
		RoleARN: in.roleARN, RoleSessionName: in.roleSessionName, ExternalID: in.externalID,
		Duration: in.duration, Region: in.region, Endpoint: in.endpointURL, MFASerial: in.mfaSerial,
	}
}

// fetchCredentials starts the plugin and asks STS.
func fetchCredentials(ctx context.Context, u *keyuri.URI, in credentialProcessInput, e *env) (cache.Credentials, error) {
	start := e.now()
	d, err := openDevice(ctx, u, in.device, e)
	if err != nil {
		return cache.Credentials{}, fmt.Errorf("open key %s: %w", u.WithoutSecrets(), err)
	}
	defer d.Close()
	e.logger.Debug("plugin started", "plugin", d.info.Name, "elapsed", e.now().Sub(start))
	client := sts.New(devicekey.Deriver(d.backend, d.key), in.accessKeyID, func(o *sts.Options) {
		o.Region = in.region
		o.EndpointURL = in.endpointURL
	})
	var creds sts.Credentials
	op := "GetSessionToken"
	if in.roleARN != "" {
		op = "AssumeRole " + in.roleARN
		creds, err = client.AssumeRole(ctx, sts.AssumeRoleInput{
			RoleARN: in.roleARN, RoleSessionName: in.roleSessionName, Duration: in.duration,
			ExternalID: in.externalID, SerialNumber: in.mfaSerial, TokenCode: in.mfaCode,
		})
	} else {
		creds, err = client.GetSessionToken(ctx, sts.GetSessionTokenInput{
			Duration: in.duration, SerialNumber: in.mfaSerial, TokenCode: in.mfaCode,
		})
	}
	e.logger.Debug("STS answered", "operation", op, "elapsed", e.now().Sub(start))
	if err != nil {
		var api *sts.APIError
		if errors.As(err, &api) {
			return cache.Credentials{}, fmt.Errorf("%s: %w", op, err)
		}
		return cache.Credentials{}, fmt.Errorf("%s: %w", op, explainDevice(d, "HMAC", err))
	}
	return cache.Credentials{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: creds.SessionToken, Expiration: creds.Expiration,
	}, nil
}
