package sigv4

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Canonical headers and signed headers of "Create a canonical request".

// ignoredHeaders (lower case) are never signed. Proxies and HTTP libraries add or rewrite
// them on the way, so a signature over them breaks (moto, for one, rejects a signed
// user-agent). The list is aws-sdk-go-v2's IgnoredHeaders.
var ignoredHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"transfer-encoding": true,
}

// requiredSignedHeaders must stay headers (and be signed) when presigning; any other
// X-Amz-* header is moved into the query ("hoisted") so that a plain GET of the URL carries
// it. The list is aws-sdk-go-v2's RequiredSignedHeaders, matched here without regard to case.
var requiredSignedHeaders = map[string]bool{
	"cache-control":                         true,
	"content-disposition":                   true,
	"content-encoding":                      true,
	"content-language":                      true,
	"content-md5":                           true,
	"content-type":                          true,
	"expires":                               true,
	"if-match":                              true,
	"if-modified-since":                     true,
	"if-none-match":                         true,
	"if-unmodified-since":                   true,
	"range":                                 true,
	"x-amz-acl":                             true,
	"x-amz-copy-source":                     true,
	"x-amz-copy-source-if-match":            true,
	"x-amz-copy-source-if-modified-since":   true,
	"x-amz-copy-source-if-none-match":       true,
	"x-amz-copy-source-if-unmodified-since": true,
	"x-amz-copy-source-range":               true,
	"x-amz-copy-source-server-side-encryption-customer-algorithm": true,
	"x-amz-copy-source-server-side-encryption-customer-key":       true,
	"x-amz-copy-source-server-side-encryption-customer-key-md5":   true,
	"x-amz-grant-full-control":                                    true,
	"x-amz-grant-read":                                            true,
	"x-amz-grant-read-acp":                                        true,
	"x-amz-grant-write":                                           true,
	"x-amz-grant-write-acp":                                       true,
	"x-amz-metadata-directive":                                    true,
	"x-amz-mfa":                                                   true,
	"x-amz-server-side-encryption":                                true,
	"x-amz-server-side-encryption-aws-kms-key-id":                 true,
	"x-amz-server-side-encryption-context":                        true,
	"x-amz-server-side-encryption-customer-algorithm":             true,
	"x-amz-server-side-encryption-customer-key":                   true,
	"x-amz-server-side-encryption-customer-key-md5":               true,
	"x-amz-storage-class":                                         true,
	"x-amz-website-redirect-location":                             true,
	"x-amz-content-sha256":                                        true,
	"x-amz-tagging":                                               true,
}

// hoistable reports whether a presigned request moves header name into the query.
func hoistable(name string) bool {
	l := strings.ToLower(name)
	if !strings.HasPrefix(l, "x-amz-") || requiredSignedHeaders[l] {
		return false
	}
	switch {
	case strings.HasPrefix(l, "x-amz-checksum-") && !strings.HasPrefix(l, "x-amz-checksum-mode"),
		strings.HasPrefix(l, "x-amz-object-lock-"),
		strings.HasPrefix(l, "x-amz-meta-"):
		return false
	}
	return true
}

// hoistedQueryKey is the query key a hoisted header becomes. S3 expects these two in lower
// case (aws-sdk-go-v2 issues 2508 and 2764).
func hoistedQueryKey(name string) string {
	switch name {
	case "X-Amz-Expected-Bucket-Owner", "X-Amz-Request-Payer":
		return strings.ToLower(name)
	}
	return name
}

// canonicalHeaders returns the canonical headers block (each line "name:value\n"), the
// signed headers list ("host;x-amz-date") and, with wantValues, the signed headers with
// their values.
//
// host is always signed, content-length when the request has a body (from contentLength,
// not from the header map, as net/http does), every header of set (name, value: what the
// signer sets on the request, replacing fields of h of the same name), and every header of
// h except the ignored ones and omit. Values of one name, also across differently cased
// keys, are joined with "," in the order given; each value is trimmed and runs of spaces
// collapsed, as aws-sdk-go-v2 does.
func canonicalHeaders(host string, contentLength int64, h http.Header, set [][2]string, omit string, wantValues bool) (block, signed string, values map[string][]string) {
	// A request of an SDK has about ten headers: both lists stay on the stack.
	var entriesBuf [16]headerEntry
	entries := append(entriesBuf[:0], headerEntry{name: "host", one: host})
	if contentLength > 0 {
		entries = append(entries, headerEntry{name: "content-length", one: strconv.FormatInt(contentLength, 10)})
	}
	for _, kv := range set {
		entries = append(entries, headerEntry{name: lowerName(kv[0]), one: kv[1]})
	}

	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range h {
		keys = append(keys, k)
	}
	// Sorted so that keys differing only in case merge in the same order every time.
	slices.Sort(keys)
	for _, k := range keys {
		lk := lowerName(k)
		switch {
		case ignoredHeaders[lk], lk == "host", lk == "content-length":
			continue // host and content-length are taken from the request fields, as net/http sends them
		case omit != "" && strings.EqualFold(k, omit):
			continue
		case slices.ContainsFunc(set, func(kv [2]string) bool { return strings.EqualFold(kv[0], k) }):
			continue
		}
		if i := slices.IndexFunc(entries, func(e headerEntry) bool { return e.name == lk }); i >= 0 {
			// Another spelling of a name seen already: copy before appending, the
			// slices are the caller's.
			entries[i].values = append(slices.Clip(entries[i].values), h[k]...)
			continue
		}
		entries = append(entries, headerEntry{name: lk, values: slices.Clip(h[k])})
	}
	slices.SortFunc(entries, func(a, b headerEntry) int { return strings.Compare(a.name, b.name) })

	n := 0
	for _, e := range entries {
		n += len(e.name) + 2 + len(e.one)
		for _, v := range e.values {
			n += len(v) + 1
		}
	}
	var b, sb strings.Builder
	b.Grow(n)
	sb.Grow(n / 2)
	for i, e := range entries {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(e.name)
		b.WriteString(e.name)
		b.WriteByte(':')
		switch {
		case e.name == "host":
			b.WriteString(stripExcessSpaces(host))
		case e.values == nil:
			b.WriteString(strings.TrimSpace(stripExcessSpaces(e.one)))
		default:
			for i, v := range e.values {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
			}
		}
		b.WriteByte('\n')
	}
	if wantValues {
		values = make(map[string][]string, len(entries))
		for _, e := range entries {
			values[e.name] = e.list()
		}
	}
	return b.String(), sb.String(), values
}

// headerEntry is one signed header: its lower-case name and its values, or its one value
// when it comes from the request's fields or the signer (values nil).
type headerEntry struct {
	name   string
	values []string
	one    string
}

func (e headerEntry) list() []string {
	if e.values == nil {
		return []string{e.one}
	}
	return e.values
}

// lowerName is strings.ToLower(name), without an allocation for the names SDKs send on
// every request.
func lowerName(name string) string {
	if l, ok := commonLowerNames[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

var commonLowerNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Host", "Content-Length", "Content-Type", "Content-Md5", "Content-Encoding",
		"X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "X-Amz-Target",
		"X-Amz-User-Agent", "X-Amz-Decoded-Content-Length", "X-Amz-Checksum-Crc32",
		"X-Amz-Sdk-Checksum-Algorithm", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request",
		"Accept", "Accept-Encoding", "User-Agent", "X-Amzn-Trace-Id", "Expect",
		"Transfer-Encoding", "Authorization", "Range", "Cache-Control",
	} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// checkHeader refuses header names and values that net/http would not send. Signing them
// would either break the canonical headers block apart or sign what never arrives. When
// several are bad it names the first in sorted order, so the error does not depend on map
// order.
func checkHeader(h http.Header) error {
	var bad, why string
	for k, vs := range h {
		if why != "" && k > bad {
			continue
		}
		switch {
		case !validHeaderName(k):
			bad, why = k, "invalid name"
		case !slices.ContainsFunc(vs, func(v string) bool { return !validHeaderValue(v) }):
			continue
		default:
			// The value is not printed: it may be a token.
			bad, why = k, "value has control characters"
		}
	}
	if why != "" {
		return fmt.Errorf("sigv4: header %q: %s", bad, why)
	}
	return nil
}

// stripExcessSpaces trims spaces at both ends and collapses each run of spaces inside to one
// (only ' ', like aws-sdk-go-v2's StripExcessSpaces).
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// validHeaderName reports whether name is an RFC 9110 token. Anything else would break the
// canonical headers block apart, and net/http refuses to send it anyway.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validHeaderValue reports whether v has no control characters other than tab, the rule
// net/http applies before sending (RFC 9110 section 5.5).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// delHeaderFold removes every key of h equal to name without regard to case, so that a
// value the signer sets is the only one signed and sent.
func delHeaderFold(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}
