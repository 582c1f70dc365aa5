package signproxy

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/awskeep/awskeep/core/sigv4"
)

// awsError is an error answered to a client in the shape its AWS SDK parses, so that the
// client reports the code and message (botocore: "An error occurred (SignatureDoesNotMatch)
// when calling the GetCallerIdentity operation: ...").
type awsError struct {
	status  int
	code    string
	message string
}

func (e *awsError) Error() string { return e.code + ": " + e.message }

// classify maps an error of verification or forwarding to the AWS error a service would
// answer. service is the credential scope's service ("" when unknown).
func classify(err error, service string) *awsError {
	var ae *awsError
	if errors.As(err, &ae) {
		return ae
	}
	s3 := service == "s3"
	pick := func(s3Code, code string) string {
		if s3 {
			return s3Code
		}
		return code
	}
	msg := err.Error()
	switch {
	case errors.Is(err, sigv4.ErrMissingAuthentication):
		return &awsError{http.StatusForbidden, pick("AccessDenied", "MissingAuthenticationToken"), "awskeep proxy: " + msg + ": sign requests with the key pair awskeep proxy printed"}
	case errors.Is(err, sigv4.ErrIncompleteSignature):
		return &awsError{http.StatusForbidden, pick("AuthorizationHeaderMalformed", "IncompleteSignature"), "awskeep proxy: " + msg}
	case errors.Is(err, sigv4.ErrInvalidAccessKeyID):
		return &awsError{http.StatusForbidden, pick("InvalidAccessKeyId", "InvalidClientTokenId"), "awskeep proxy: the access key ID is not the one awskeep proxy printed"}
	case errors.Is(err, sigv4.ErrSignatureDoesNotMatch):
		return &awsError{http.StatusForbidden, "SignatureDoesNotMatch", "awskeep proxy: the request signature does not match the local secret awskeep proxy printed: " + msg}
	case errors.Is(err, sigv4.ErrRequestExpired):
		return &awsError{http.StatusForbidden, pick("RequestTimeTooSkewed", "RequestExpired"), "awskeep proxy: " + msg}
	case errors.Is(err, sigv4.ErrTrailerNotSupported):
		return &awsError{http.StatusNotImplemented, "NotImplemented", "awskeep proxy: " + msg +
			"; set request_checksum_calculation = when_required (AWS_REQUEST_CHECKSUM_CALCULATION) in the client"}
	case errors.Is(err, sigv4.ErrChunkTooLarge):
		return &awsError{http.StatusRequestEntityTooLarge, "EntityTooLarge", "awskeep proxy: " + msg}
	case errors.Is(err, sigv4.ErrMalformedChunk):
		return &awsError{http.StatusBadRequest, "IncompleteBody", "awskeep proxy: " + msg}
	}
	return &awsError{http.StatusInternalServerError, "InternalFailure", "awskeep proxy: " + msg}
}

// write answers e in the client's protocol: S3's <Error>, the JSON protocols' __type, or
// the query protocols' <ErrorResponse>.
func (e *awsError) write(w http.ResponseWriter, r *http.Request, service, requestID string) {
	h := w.Header()
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("X-Amzn-Errortype", e.code)
	var body []byte
	switch ct := r.Header.Get("Content-Type"); {
	case service == "s3":
		h.Set("Content-Type", "application/xml")
		body = xmlBody(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
		}{Code: e.code, Message: e.message, RequestID: requestID})
	case strings.HasPrefix(ct, "application/x-amz-json") || strings.HasPrefix(ct, "application/json"):
		h.Set("Content-Type", "application/x-amz-json-1.1")
		body, _ = json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	default:
		h.Set("Content-Type", "text/xml")
		type detail struct {
			Type    string
			Code    string
			Message string
		}
		body = xmlBody(struct {
			XMLName   xml.Name `xml:"ErrorResponse"`
			Error     detail
			RequestID string `xml:"RequestId"`
		}{Error: detail{Type: "Sender", Code: e.code, Message: e.message}, RequestID: requestID})
	}
	w.WriteHeader(e.status)
	w.Write(body)
}

func xmlBody(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil { // only fixed struct types reach here
		return nil
	}
	return append([]byte(xml.Header), b...)
}
