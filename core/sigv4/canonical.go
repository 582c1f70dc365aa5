package sigv4

import (
	"net/url"
	"slices"
	"strings"
)

// The canonical URI and canonical query string of "Create a canonical request".

// uriPath returns the request path as it goes on the wire, the input of the canonical URI.
// A path set through URL.Opaque ("//host/path" or "/path") is taken literally, which is how
// callers send a path that must not be re-escaped by net/url.
func uriPath(u *url.URL) string {
	var p string
	if u.Opaque != "" {
		// Same rules as aws-sdk-go-v2 GetURIPath: drop a query, a leading "//", then
		// everything up to the first "/" (the authority).
		o := u.Opaque
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			p = o[i:]
		}
	} else {
		p = u.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// normalizePath removes "." and ".." segments (RFC 3986 section 5.2.4) and empty segments,
// keeping a leading and a trailing "/". AWS services other than S3 normalize the path this
// way before they compute the canonical request; this is botocore's remove_dot_segments,
// which the AWS signing test suite's *-normalized cases follow.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// uriEncode percent-encodes every byte except the unreserved characters A-Z a-z 0-9 - . _ ~,
// with upper-case hex, as "Create a canonical request" requires. With keepSlash, "/" is kept
// (paths); otherwise it is encoded (query keys and values).
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalQuery encodes every key and value, sorts the pairs by encoded key and then by
// encoded value (so "%E1%88%B4" sorts before "Param"), and joins them with "&". A key without
// a value keeps its "=".
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		ek := uriEncode(k, false)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, false)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}
