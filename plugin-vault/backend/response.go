package backend

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxResponse bounds what the plugin reads of one answer; transit's answers are small (the
// largest, wrapping_key, is a 4096-bit RSA key in PEM).
const maxResponse = 1 << 20

// envelope is the frame of every Vault HTTP API answer (Vault's logical.HTTPResponse).
type envelope struct {
	Data   json.RawMessage `json:"data"`
	Auth   *authInfo       `json:"auth"`
	Errors []string        `json:"errors"`
}

// authInfo is the auth block of a login answer.
type authInfo struct {
	ClientToken   string `json:"client_token"`
	LeaseDuration int64  `json:"lease_duration"`
}

// apiError is an answer with a status other than 2xx: the status and Vault's error strings.
type apiError struct {
	Status int
	Errors []string
}

func (e *apiError) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	parts := make([]string, 0, len(e.Errors))
	for _, s := range e.Errors {
		// Vault joins errors with multierror's layout ("2 errors occurred:\n\t* ..."): one
		// line, control characters out, and a bound on what a server can make us print.
		m := strings.Join(strings.Fields(s), " ")
		if len(m) > 200 {
			m = m[:200] + "..."
		}
		parts = append(parts, printable(m))
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// has reports whether one of Vault's error strings contains s. Vault's HTTP API has no error
// codes beyond the status; its messages ("invalid token", "encryption key not found") are
// the only finer signal, and they are read here, at the edge, and nowhere else.
func (e *apiError) has(s string) bool {
	for _, m := range e.Errors {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// decodeResponse reads one answer: a 2xx status decodes the data block into data (when
// non-nil) and the auth block into auth (when non-nil); any other status is an *apiError.
func decodeResponse(status int, body []byte, data any, auth **authInfo) error {
	if status < 200 || status > 299 {
		e := &apiError{Status: status}
		var env envelope
		if json.Unmarshal(body, &env) == nil {
			e.Errors = env.Errors
		}
		return e
	}
	if data == nil && auth == nil {
		return nil
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("malformed answer (HTTP %d): %w", status, err)
	}
	if auth != nil {
		if env.Auth == nil || env.Auth.ClientToken == "" {
			return errors.New("answer without a client token")
		}
		*auth = env.Auth
	}
	if data != nil {
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return errors.New("answer without data")
		}
		if err := json.Unmarshal(env.Data, data); err != nil {
			return fmt.Errorf("malformed data: %w", err)
		}
	}
	return nil
}

// keyInfo is the data of GET MOUNT/keys/NAME that DescribeKey reports.
type keyInfo struct {
	Name                 string          `json:"name"`
	Type                 string          `json:"type"`
	Exportable           bool            `json:"exportable"`
	AllowPlaintextBackup bool            `json:"allow_plaintext_backup"`
	DeletionAllowed      bool            `json:"deletion_allowed"`
	Imported             bool            `json:"imported_key"`
	LatestVersion        int             `json:"latest_version"`
	Keys                 json.RawMessage `json:"keys"`
}

// versions counts the key versions transit lists (a map of version to creation time).
func (k keyInfo) versions() int {
	var m map[string]json.RawMessage
	if json.Unmarshal(k.Keys, &m) != nil {
		return 0
	}
	return len(m)
}

// parseHMAC reads transit's "vault:vN:BASE64" HMAC answer and returns the 32-byte tag.
func parseHMAC(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	if !ok {
		return nil, errors.New("malformed HMAC answer: want vault:vN:BASE64")
	}
	ver, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, errors.New("malformed HMAC answer: want vault:vN:BASE64")
	}
	if n, err := strconv.Atoi(ver); err != nil || n < 1 {
		return nil, errors.New("malformed HMAC answer: bad key version")
	}
	tag, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("malformed HMAC answer: bad base64")
	}
	if len(tag) != 32 {
		return nil, fmt.Errorf("malformed HMAC answer: %d bytes, want 32 (sha2-256)", len(tag))
	}
	return tag, nil
}
