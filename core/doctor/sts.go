package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/sts"
)

// probeBody is an unsigned GetCallerIdentity: STS answers it with an error (it is not
// signed), which proves the endpoint is reachable and gives its Date.
const probeBody = "Action=GetCallerIdentity&Version=2011-06-15"

// stsAnswer is what the probe learned.
type stsAnswer struct {
	endpoint string
	date     string    // the Date header, "" when absent
	mid      time.Time // local time halfway between sending and receiving
}

// HTTPClient is sts.HTTPClient: the client the engine uses for STS, so doctor tries the
// endpoint the way a credential request would.
func HTTPClient(caBundle string) (*http.Client, error) { return sts.HTTPClient(caBundle) }

// Endpoint returns the STS endpoint awskeep calls: endpointURL when set, else the
// regional endpoint https://sts.REGION.amazonaws.com (amazonaws.com.cn in China).
func Endpoint(endpointURL, region string) string {
	if endpointURL != "" {
		return endpointURL
	}
	if region == "" {
		region = sts.DefaultRegion
	}
	if strings.HasPrefix(region, "cn-") {
		return "https://sts." + region + ".amazonaws.com.cn"
	}
	return "https://sts." + region + ".amazonaws.com"
}

// stsTarget returns the endpoint, where it came from, and the CA bundle: from the settings
// when there are some, else from the flags and the environment as engine.Resolve reads them.
func (s *state) stsTarget() (endpoint, from, caBundle string) {
	if s.settingsOK {
		from := "the default endpoint of region " + s.settings.Region
		if o := s.settings.Origin("endpoint-url"); o != "" {
			from = "endpoint from " + o
		}
		return Endpoint(s.settings.EndpointURL, s.settings.Region), from, s.settings.CABundle
	}
	f, env := s.in.Flags, s.in.Getenv
	first := func(pairs ...[2]string) (string, string) {
		for _, p := range pairs {
			if p[1] != "" {
				return p[1], p[0]
			}
		}
		return "", ""
	}
	endpointURL, from := first([2]string{"--endpoint-url", f.EndpointURL},
		[2]string{"$AWS_ENDPOINT_URL_STS", env("AWS_ENDPOINT_URL_STS")}, [2]string{"$AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL")})
	region, _ := first([2]string{"", f.Region}, [2]string{"", env("AWS_REGION")}, [2]string{"", env("AWS_DEFAULT_REGION")})
	if region == "" {
		region = sts.DefaultRegion
	}
	if from == "" {
		from = "the default endpoint of region " + region
	} else {
		from = "endpoint from " + from
	}
	caBundle, _ = first([2]string{"", f.CABundle}, [2]string{"", env("AWS_CA_BUNDLE")})
	return Endpoint(endpointURL, region), from, caBundle
}

// checkSTS sends one unsigned POST to the STS endpoint: any HTTP answer means it is
// reachable. The answer's Date header is kept for the clock check.
func (s *state) checkSTS(ctx context.Context) Result {
	if !s.noKey && !s.settingsOK {
		return skip("needs the settings")
	}
	endpoint, from, caBundle := s.stsTarget()
	shown := redactURL(endpoint)
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(fmt.Sprintf("%q (%s) is not an http:// or https:// URL", shown, from),
			"correct endpoint_url (or --endpoint-url, $AWS_ENDPOINT_URL_STS)")
	}
	client := s.in.HTTPClient
	if client == nil {
		if client, err = HTTPClient(caBundle); err != nil {
			return fail(err.Error(), "point ca_bundle (or --ca-bundle, $AWS_CA_BUNDLE) at a PEM file of CA certificates")
		}
		defer client.CloseIdleConnections() // one request: keep no connection open after Run
	}
	ctx, cancel := context.WithTimeout(ctx, s.in.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(probeBody))
	if err != nil {
		return fail(fmt.Sprintf("%s: %v", shown, err), "correct endpoint_url (or --endpoint-url, $AWS_ENDPOINT_URL_STS)")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sent := s.in.Now()
	resp, err := client.Do(req)
	received := s.in.Now()
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		detail := fmt.Sprintf("%s (%s) is unreachable: %v", shown, from, oneLine(err.Error()))
		if errors.Is(err, context.DeadlineExceeded) {
			detail = fmt.Sprintf("%s (%s) did not answer within %v", shown, from, s.in.Timeout)
		}
		return fail(detail, "check endpoint_url / network / proxy")
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	s.sts = &stsAnswer{endpoint: shown, date: resp.Header.Get("Date"), mid: sent.Add(received.Sub(sent) / 2)}
	return ok("%s (%s) answers: HTTP %d to an unsigned request", shown, from, resp.StatusCode)
}

// checkClock compares the local clock with the Date of STS's answer: SigV4 refuses
// requests signed more than MaxClockSkew away from the server's time.
func (s *state) checkClock() Result {
	switch {
	case s.sts == nil:
		return skip("needs an answer from STS")
	case s.sts.date == "":
		return skip("%s answered without a Date header", s.sts.endpoint)
	}
	date, err := http.ParseTime(s.sts.date)
	if err != nil {
		return skip("%s answered with a Date header that is not an HTTP date", s.sts.endpoint)
	}
	// The Date header drops the fraction of a second: the server's time was half a second
	// later on average. A skew that rounds to zero is agreement.
	skew := s.sts.mid.Sub(date.Add(time.Second / 2)).Round(time.Second)
	ahead := "ahead of"
	if skew < 0 {
		skew, ahead = -skew, "behind"
	}
	if skew > MaxClockSkew {
		return fail(fmt.Sprintf("the local clock is %v %s STS's (Date: %s); SigV4 rejects requests more than 5 minutes off", skew, ahead, s.sts.date),
			"sync the clock (timedatectl set-ntp true)")
	}
	if skew < time.Second {
		return ok("the local clock agrees with STS's Date within a second")
	}
	return ok("the local clock is %v %s STS's (SigV4 allows %v)", skew, ahead, MaxClockSkew)
}
