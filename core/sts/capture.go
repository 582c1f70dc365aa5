package sts

import (
	"context"
	"net/http"

	"github.com/awskeep/awskeep/core/internal/awsquery"
)

// errorCapture remembers the error code and message of a failed STS response. aws-sdk-go-v2
// reads only the <ErrorResponse><Error> form that AWS sends; some STS-compatible endpoints
// (moto, for its authentication errors) answer <ErrorResponse><Errors><Error>, which the
// SDK reports as "UnknownError". The capture lets explain name the real cause.
//
// It also keeps the signer's error: when the device fails or hangs until the deadline,
// the SDK may report only the context's error, and the capture lets explain charge the
// failure to the device rather than to STS.
type errorCapture struct {
	code, message string
	signErr       error
	// redirect is the Location of a 3xx answer, with its status.
	redirect   string
	redirectOf int
}

type captureKey struct{}

func withCapture(ctx context.Context) (context.Context, *errorCapture) {
	c := &errorCapture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// capturingTransport peeks at error responses; successful ones pass untouched.
type capturingTransport struct {
	next http.RoundTripper
}

func (t capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 300 {
		return resp, err
	}
	c, ok := r.Context().Value(captureKey{}).(*errorCapture)
	if !ok {
		return resp, nil
	}
	if resp.StatusCode < 400 {
		c.redirect, c.redirectOf = resp.Header.Get("Location"), resp.StatusCode
		return resp, nil
	}
	c.code, c.message = awsquery.PeekError(resp)
	return resp, nil
}
