package rotate

import (
	"context"
	"net/http"

	"github.com/awskeep/awskeep/core/internal/awsquery"
)

// errorCapture remembers the code and message of a failed IAM response. aws-sdk-go-v2 reads
// the <ErrorResponse><Error> form AWS sends; moto answers its authorization errors
// (AccessDenied, InvalidClientTokenId) as <ErrorResponse><Errors><Error>, which the SDK
// reports as "UnknownError" (core/sts does the same for STS).
type errorCapture struct{ code, message string }

type captureKey struct{}

func withCapture(ctx context.Context) (context.Context, *errorCapture) {
	c := &errorCapture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// capturingTransport peeks at error responses; successful ones pass untouched.
type capturingTransport struct{ next http.RoundTripper }

func (t capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	c, ok := r.Context().Value(captureKey{}).(*errorCapture)
	if !ok {
		return resp, nil
	}
	c.code, c.message = awsquery.PeekError(resp)
	return resp, nil
}
