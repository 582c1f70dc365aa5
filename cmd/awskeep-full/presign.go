package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/awskeep/awskeep/core/sigv4"
)

// defaultPresignExpiry is how long a presigned URL is valid unless --expires says.
const defaultPresignExpiry = 15 * time.Minute

// presignMethods are the methods a presigned URL is good for: what a browser or curl
// sends without a signed body.
var presignMethods = []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete}

// presignInput is the command line of awskeep presign.
type presignInput struct {
	sign    signFlags
	scope   scopeFlags
	method  string
	expires expiresValue
}

func newPresignCommand(e *env) *cobra.Command {
	in := presignInput{method: http.MethodGet, expires: expiresValue(defaultPresignExpiry)}
	cmd := &cobra.Command{
		Use:   "presign (--profile NAME | --key URI --access-key-id AKID) [--expires 15m] [-X GET|PUT|HEAD|DELETE] [--service S] [--region R] URL",
		Short: "Print a presigned URL, signed with the device key",
		Long: `Print a URL that anyone holding it can use, without credentials, until it expires: the
request is signed with Signature Version 4 in the query (X-Amz-Signature) by the device
key itself. Nothing is sent.

  awskeep presign --profile prod-hsm https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf
  url=$(awskeep presign --profile prod-hsm -X PUT --expires 1h https://my-bucket.s3.eu-west-1.amazonaws.com/upload.bin)
  curl -T upload.bin "$url"

--expires takes 1s to 7 days (AWS's bound for presigned URLs): 90s, 15m, 12h, 7d or
seconds. The URL grants what the key's user may do with that method on that URL: pass
it on as you would the object.

Service and region: --service and --region when given; otherwise the signing name and
region the URL's host stands for, as the AWS SDKs' endpoint rules name them. The
profile's region (region, $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1) is used only when
the host names no region and --region is not given. A host that is not AWS's needs
--service. For s3 the body is left out of the signature (UNSIGNED-PAYLOAD: any body can
be PUT) and the path is signed as sent; other services (STS
?Action=GetCallerIdentity&Version=2011-06-15, for one) are signed for an empty body.`,
		Args: urlArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			url, err := runPresign(cmd.Context(), e, &in, args[0])
			if err != nil {
				return err
			}
			_, err = io.WriteString(e.stdout, url+"\n")
			return err
		},
	}
	fs := cmd.Flags()
	in.sign.bind(fs)
	in.scope.bind(fs)
	fs.StringVarP(&in.method, "request", "X", http.MethodGet, "HTTP method the URL is for: GET, PUT, HEAD or DELETE")
	fs.Var(&in.expires, "expires", "validity of the URL: 1s to 7d (15m, 12h, 7d or seconds)")
	return cmd
}

// runPresign returns the presigned URL.
func runPresign(ctx context.Context, e *env, in *presignInput, raw string) (string, error) {
	method := strings.ToUpper(in.method)
	if !validPresignMethod(method) {
		return "", usagef("-X: presign takes %s", strings.Join(presignMethods, ", "))
	}
	u, err := parseEndpointURL("presign", raw)
	if err != nil {
		return "", err
	}
	sc, err := scopeFor("presign", u.Host, in.scope.service, in.sign.settings.Region)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeDuration(in.sign.host.timeout))
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return "", usagef("presign: %v", err)
	}
	r.URL = u
	key, err := in.sign.open(ctx, e)
	if err != nil {
		return "", err
	}
	defer key.Close()
	if sc.Region == "" {
		sc.Region = key.Region()
	}
	payloadHash := sigv4.EmptyPayloadHash
	var opts []func(*sigv4.Options)
	if sc.Service == "s3" {
		payloadHash = sigv4.UnsignedPayload
		opts = append(opts, func(o *sigv4.Options) { o.DisableURIPathEscaping = true })
	}
	signed, _, err := key.Presign(ctx, r, payloadHash, sc.Service, sc.Region, e.now(), time.Duration(in.expires), opts...)
	if err != nil {
		return "", fmt.Errorf("presign %s %s: %w", method, displayURL(u), err)
	}
	return signed, nil
}

func validPresignMethod(m string) bool {
	for _, p := range presignMethods {
		if m == p {
			return true
		}
	}
	return false
}

// expiresValue is the validity of a presigned URL: a Go duration, seconds, or whole days
// (7d), within what SigV4 allows ([sigv4.MaxPresignExpiry]) and in whole seconds (the
// X-Amz-Expires query parameter).
type expiresValue time.Duration

func (v *expiresValue) String() string { return time.Duration(*v).String() }
func (v *expiresValue) Type() string   { return "duration" }

func (v *expiresValue) Set(s string) error {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a duration such as 15m, 12h, 7d or 900 (seconds)")
		}
		if n > int64(sigv4.MaxPresignExpiry/(24*time.Hour)) {
			return fmt.Errorf("%s is longer than 7d (168h), the longest a presigned URL may be valid", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var dv durationValue
		if err := dv.Set(s); err != nil {
			return fmt.Errorf("want a duration such as 15m, 12h, 7d or 900 (seconds)")
		}
		d = time.Duration(dv)
	}
	switch {
	case d < time.Second:
		return fmt.Errorf("%v is shorter than 1s, the shortest a presigned URL may be valid", d)
	case d > sigv4.MaxPresignExpiry:
		return fmt.Errorf("%v is longer than 7d (168h), the longest a presigned URL may be valid", d)
	case d%time.Second != 0:
		return fmt.Errorf("%v is not a whole number of seconds", d)
	}
	*v = expiresValue(d)
	return nil
}
