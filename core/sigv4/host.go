package sigv4

import (
	"net/http"
	"strings"
)

// validHost reports whether host is what net/http sends as a Host header: printable ASCII
// from the URI's host syntax (RFC 3986 section 3.2.2), the check of httpguts.ValidHostHeader.
// net/http converts an internationalized name to punycode before sending it, so signing
// the Unicode form would sign something else than what arrives.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!$&'()*+,;=-._~:[]%", c) >= 0) {
			return false
		}
	}
	return true
}

// requestHost is the host net/http sends: r.Host, else r.URL.Host.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// sanitizeHost drops a port that is the default for scheme (":443" for https, ":80" for
// http), as aws-sdk-go-v2 and botocore do; any other port is part of the signed host.
func sanitizeHost(scheme, host string) string {
	port := portOnly(host)
	if port == "" {
		return host
	}
	switch strings.ToLower(scheme) + ":" + port {
	case "http:80", "https:443":
		return stripPort(host)
	}
	return host
}

// portOnly and stripPort follow aws-sdk-go-v2's helpers, except that stripPort keeps the
// brackets of an IPv6 literal: "[::1]" is the Host header net/http sends.
func portOnly(hostport string) string {
	colon := strings.IndexByte(hostport, ':')
	if colon == -1 {
		return ""
	}
	if i := strings.Index(hostport, "]:"); i != -1 {
		return hostport[i+len("]:"):]
	}
	if strings.Contains(hostport, "]") {
		return ""
	}
	return hostport[colon+len(":"):]
}

func stripPort(hostport string) string {
	colon := strings.IndexByte(hostport, ':')
	if colon == -1 {
		return hostport
	}
	if i := strings.IndexByte(hostport, ']'); i != -1 {
		return hostport[:i+1]
	}
	return hostport[:colon]
}
