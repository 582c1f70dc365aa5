package creds

import (
	"fmt"
	"log/slog"
	"time"
)

// Credentials are temporary AWS credentials as STS returns them (the fields of the
// credential_process output). String, GoString and LogValue never show the secret access
// key or the session token, so a stray %v, %#v or slog attribute cannot leak them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expiration is when the credentials stop working; zero for long-term keys.
	Expiration time.Time
}

// String prints the access key id and the expiry only.
func (c Credentials) String() string {
	if c.Expiration.IsZero() {
		return fmt.Sprintf("credentials %s", c.AccessKeyID)
	}
	return fmt.Sprintf("temporary credentials %s until %s", c.AccessKeyID, c.Expiration.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the secret access key and the session token.
func (c Credentials) GoString() string { return c.String() }

// LogValue keeps slog handlers (including the JSON handler, which would otherwise marshal
// every field) from logging the secret access key and the session token.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.Time("expiration", c.Expiration),
	)
}

// Complete reports whether the credentials have the fields a client needs.
func (c Credentials) Complete() bool {
	return c.AccessKeyID != "" && c.SecretAccessKey != ""
}

// Remaining is how long the credentials still work at now; a large value for credentials
// that do not expire.
func (c Credentials) Remaining(now time.Time) time.Duration {
	if c.Expiration.IsZero() {
		return 1<<63 - 1
	}
	return c.Expiration.Sub(now)
}
