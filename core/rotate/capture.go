package rotate

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
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

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

func (t capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	c, ok := r.Context().Value(captureKey{}).(*errorCapture)
	if !ok {
		return resp, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr == nil {
		c.code, c.message = parseError(body)
	}
	return resp, nil
}

// queryError is one <Error> of an AWS Query protocol error document.
type queryError struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// parseError reads an AWS Query error document in either form ("" when it is neither).
func parseError(body []byte) (code, message string) {
	var doc struct {
		Error  queryError   `xml:"Error"`
		Errors []queryError `xml:"Errors>Error"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return "", ""
	}
	if doc.Error.Code != "" {
		return doc.Error.Code, doc.Error.Message
	}
	if len(doc.Errors) > 0 {
		return doc.Errors[0].Code, doc.Errors[0].Message
	}
	return "", ""
}
