package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awskeep/awskeep/core/creds"
)

// ECSPath is the path of the container credential endpoint: the path part of
// AWS_CONTAINER_CREDENTIALS_FULL_URI.
const ECSPath = "/awskeep/credentials"

// MinTokenLength is the shortest Options.Token Handler accepts. Token makes 43 characters.
const MinTokenLength = 16

// Options configure Handler.
type Options struct {
	// Token is the exact Authorization header value container-credential clients must send
	// (AWS_CONTAINER_AUTHORIZATION_TOKEN). Required: at least MinTokenLength printable ASCII
	// characters, without leading or trailing spaces. Use Token to make one.
	Token string

	// IMDS also serves the IMDSv2 emulation under /latest/.
	IMDS bool

	// RoleName is the IAM role name the IMDS emulation lists; "awskeep" by default.
	RoleName string

	// Now is the clock (token expiry, LastUpdated); time.Now by default.
	Now func() time.Time

	// Logger gets one debug line per request: method, path, status and duration, and the
	// error of a failed retrieval (whose text never holds a secret). Nil discards.
	Logger *slog.Logger

	// MaxIMDSTokenTTL is the longest IMDS session token a client may ask for; 6 hours
	// (21600 seconds) by default, as on EC2.
	MaxIMDSTokenTTL time.Duration
}

// Errors of Handler's options.
var (
	ErrNoToken  = errors.New("server: a bearer token is required")
	ErrBadToken = fmt.Errorf("server: the bearer token must be at least %d printable ASCII characters without surrounding spaces", MinTokenLength)
)

// maxMessage caps the error message a client sees: engine errors never hold a secret, but
// a long one is no use to a client and may say more than it needs.
const maxMessage = 512

// maxIMDSTokens bounds the live IMDS session tokens; issuing another evicts the oldest.
const maxIMDSTokens = 1024

// handler serves both protocols.
type handler struct {
	provider creds.Provider
	token    []byte
	imds     bool
	role     string
	now      func() time.Time
	log      *slog.Logger
	maxTTL   int // seconds
	sessions *sessions
}

// Handler returns the handler of the container credential endpoint (ECSPath) and, with
// opts.IMDS, of the IMDSv2 emulation, serving what p retrieves. Other paths answer 404.
func Handler(p creds.Provider, opts Options) (http.Handler, error) {
	switch {
	case p == nil:
		return nil, errors.New("server: no credential provider")
	case opts.Token == "":
		return nil, ErrNoToken
	case !validToken(opts.Token):
		return nil, ErrBadToken
	}
	if opts.RoleName == "" {
		opts.RoleName = "awskeep"
	}
	if !validRoleName(opts.RoleName) {
		return nil, fmt.Errorf("server: role name %q: want letters, digits and +=,.@_- only", opts.RoleName)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxIMDSTokenTTL == 0 {
		opts.MaxIMDSTokenTTL = 6 * time.Hour
	}
	if opts.MaxIMDSTokenTTL < time.Second {
		return nil, fmt.Errorf("server: MaxIMDSTokenTTL %v is shorter than a second", opts.MaxIMDSTokenTTL)
	}
	return &handler{
		provider: p,
		token:    []byte(opts.Token),
		imds:     opts.IMDS,
		role:     opts.RoleName,
		now:      opts.Now,
		log:      opts.Logger,
		maxTTL:   int(opts.MaxIMDSTokenTTL / time.Second),
		sessions: newSessions(maxIMDSTokens),
	}, nil
}

func validToken(t string) bool {
	if len(t) < MinTokenLength || t[0] == ' ' || t[len(t)-1] == ' ' {
		return false
	}
	for i := range len(t) {
		if t[i] < ' ' || t[i] > '~' {
			return false
		}
	}
	return true
}

// validRoleName accepts IAM's role name characters (IAM User Guide, "IAM object quotas":
// alphanumerics and +=,.@_-), so the name is safe in a path and a text response.
func validRoleName(n string) bool {
	if len(n) > 128 {
		return false
	}
	for _, r := range n {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("+=,.@_-", r)) {
			return false
		}
	}
	return true
}

// ServeHTTP refuses forwarded and browser requests, routes by path and logs the outcome.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	rw := &recorder{ResponseWriter: w}
	switch {
	case r.Header["X-Forwarded-For"] != nil || r.Header["Origin"] != nil:
		rw.WriteHeader(http.StatusForbidden)
	case r.URL.Path == ECSPath:
		h.serveECS(rw, r)
	case h.imds && (r.URL.Path == "/latest" || strings.HasPrefix(r.URL.Path, "/latest/")):
		h.serveIMDS(rw, r)
	default:
		rw.WriteHeader(http.StatusNotFound)
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", truncate(r.URL.Path, 256)),
		slog.Int("status", rw.status),
		slog.Duration("duration", h.now().Sub(start)),
	}
	if rw.err != nil {
		attrs = append(attrs, slog.String("error", truncate(rw.err.Error(), maxMessage)))
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "request", attrs...)
}

// recorder remembers the status and a retrieval error for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	err    error
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// methodNotAllowed answers 405 with the one method the path takes.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// writeJSON answers status with v as JSON, never to be cached (it holds credentials).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only plain strings are marshalled; cannot happen
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText answers 200 with a short text body.
func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// timestamp formats t as the protocols do: RFC 3339 in UTC, to the second.
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
