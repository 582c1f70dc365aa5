package sinks

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/creds"
)

// Formats are the formats Export writes.
var Formats = []string{"env", "json", "ini"}

// validSectionName reports whether s may name a credentials-file section here: 1 to 128 of
// A-Z a-z 0-9 _.@+=,:/- (no brackets, no line breaks, nothing a parser could read as a
// second section). A loop, not a package-level regexp: compiling one at start-up costs
// every cache hit.
func validSectionName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.@+=,:/-", c) >= 0) {
			return false
		}
	}
	return true
}

// Export writes c in format:
//   - env: POSIX shell lines `export NAME='value'` (Variables), for eval or source;
//   - json: the credential_process JSON object;
//   - ini: a section named profile for a shared credentials file (aws_access_key_id,
//     aws_secret_access_key, aws_session_token), with the expiry in a comment; a section
//     name or a value that could break the file's structure is refused.
func Export(c creds.Credentials, region, format, profile string) ([]byte, error) {
	if !c.Complete() {
		return nil, fmt.Errorf("credentials are incomplete")
	}
	var b bytes.Buffer
	switch format {
	case "env":
		for _, v := range Variables(c, region) {
			fmt.Fprintf(&b, "export %s=%s\n", v.Name, ShellQuote(v.Value))
		}
	case "json":
		return credproc.Marshal(c)
	case "ini":
		if !validSectionName(profile) {
			return nil, fmt.Errorf("%q cannot name a credentials-file section", profile)
		}
		// ini has no escapes: a line break in a value would end it and could start a
		// section or a key of its own.
		for _, kv := range [][2]string{
			{"aws_access_key_id", c.AccessKeyID},
			{"aws_secret_access_key", c.SecretAccessKey},
			{"aws_session_token", c.SessionToken},
		} {
			if strings.ContainsAny(kv[1], "\r\n") {
				return nil, fmt.Errorf("%s holds a line break: it cannot be written to a credentials file", kv[0])
			}
		}
		fmt.Fprintf(&b, "[%s]\n", profile)
		if !c.Expiration.IsZero() {
			fmt.Fprintf(&b, "# temporary credentials from awskeep; they expire at %s\n", c.Expiration.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "aws_access_key_id = %s\naws_secret_access_key = %s\n", c.AccessKeyID, c.SecretAccessKey)
		if c.SessionToken != "" {
			fmt.Fprintf(&b, "aws_session_token = %s\n", c.SessionToken)
		}
	default:
		return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	return b.Bytes(), nil
}

// ShellQuote quotes s for a POSIX shell: inside single quotes nothing is special except the
// single quote itself, which ends the quoted text, is written escaped and starts it again:
//
//	it's -> 'it'\''s'
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
