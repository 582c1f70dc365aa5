package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

const (
	// algorithm names the signing algorithm in the string to sign, the Authorization header
	// and X-Amz-Algorithm.
	algorithm = "AWS4-HMAC-SHA256"
	// terminator ends the credential scope and is the last input of the key chain.
	terminator = "aws4_request"

	amzDateFormat = "20060102T150405Z" // ISO 8601 basic format, X-Amz-Date
	dateFormat    = "20060102"         // yyyymmdd, the scope date and the Deriver input
)

// scope is the credential scope of one signature: date/region/service/aws4_request.
type scope struct {
	amzDate string // signing time, 20060102T150405Z
	date    string // signing date, 20060102
	region  string
	service string

	credential string // String's value, made once by newScope
}

func newScope(t time.Time, region, service string) scope {
	amzDate := t.UTC().Format(amzDateFormat)
	sc := scope{
		amzDate: amzDate,
		date:    amzDate[:len(dateFormat)],
		region:  region,
		service: service,
	}
	sc.credential = sc.String()
	return sc
}

// String returns the credential scope, "20150830/us-east-1/iam/aws4_request".
func (s scope) String() string {
	if s.credential != "" {
		return s.credential
	}
	return s.date + "/" + s.region + "/" + s.service + "/" + terminator
}

// stringToSign builds the string to sign of "Create a string to sign": the algorithm, the
// request time, the credential scope and the hex SHA-256 of the canonical request.
func stringToSign(sc scope, canonicalRequest string) string {
	sum := sha256.Sum256(bytesOf(canonicalRequest))
	var b strings.Builder
	b.Grow(len(algorithm) + len(sc.amzDate) + 64 + 64)
	b.WriteString(algorithm)
	b.WriteByte('\n')
	b.WriteString(sc.amzDate)
	b.WriteByte('\n')
	b.WriteString(sc.String())
	b.WriteByte('\n')
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	b.Write(hx[:])
	return b.String()
}

// authorization formats the Authorization header value.
func authorization(accessKeyID string, sc scope, signedHeaders, signature string) string {
	return algorithm + " Credential=" + accessKeyID + "/" + sc.String() +
		", SignedHeaders=" + signedHeaders + ", Signature=" + signature
}
