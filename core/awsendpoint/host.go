package awsendpoint

import "strings"

const (
	maxLabel = 63  // RFC 1035 section 2.3.4
	maxName  = 253 // the same limit, without the root's length octet and trailing dot
)

// hostLabels normalises a URL host into its DNS labels: lower case, without a port and a
// trailing dot. It refuses what cannot be an AWS endpoint's name: anything but letters,
// digits, hyphens and dots (so IPv6 literals, user info and Unicode), empty labels, labels
// that start or end with a hyphen, and names over the DNS limits. IPv4 addresses and
// localhost pass here and fail for want of an AWS suffix.
func hostLabels(host string) ([]string, bool) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		port := host[i+1:]
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return nil, false
		}
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > maxName {
		return nil, false
	}
	b := []byte(host) // a copy: lower-casing in place
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.':
		default:
			return nil, false
		}
	}
	labels := strings.Split(string(b), ".")
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return nil, false
		}
	}
	return labels, true
}
