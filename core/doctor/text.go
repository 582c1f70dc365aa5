package doctor

import (
	"net/url"
	"strings"
)

// oneLine keeps a device's or server's message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// redactURL hides a password in a URL's user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
