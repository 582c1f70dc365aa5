// Package awsquery reads the error documents of AWS Query protocol services (STS, IAM).
//
// AWS answers a failed Query request with
// <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error></ErrorResponse>
// (AWS Query protocol, "Error responses"), which aws-sdk-go-v2 understands. Some
// compatible endpoints (moto, for its authentication errors) answer the older
// <ErrorResponse><Errors><Error>..</Error></Errors></ErrorResponse>, which the SDK reports
// as "UnknownError". core/sts and core/rotate capture failed responses and read them here,
// so that their errors name the real cause.
package awsquery

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
)

// maxErrorBody bounds how much of an error response PeekError reads.
const maxErrorBody = 64 << 10

// PeekError reads the code and message of a failed response's error document (up to
// 64 KiB of its body) and puts the bytes read back, so that the SDK still reads the whole
// answer itself.
func PeekError(resp *http.Response) (code, message string) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", ""
	}
	return ParseError(body)
}

// queryError is one <Error> of an error document.
type queryError struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// ParseError returns the code and message of an error document in either form, the first
// error of a list; "" and "" when body is neither.
func ParseError(body []byte) (code, message string) {
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
