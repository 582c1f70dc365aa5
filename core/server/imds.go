package server

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The IMDSv2 protocol ("How Instance Metadata Service Version 2 works", Amazon EC2 User
// Guide): a PUT to tokenPath with ttlHeader returns a session token; GETs carry it in
// tokenHeader.
const (
	tokenPath   = "/latest/api/token"
	ttlHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	tokenHeader = "X-Aws-Ec2-Metadata-Token"
	credsPath   = "/latest/meta-data/iam/security-credentials/"
)

// imdsCredentials is the body of GET credsPath+role, field for field as EC2 answers it;
// aws-sdk-go-v2 ec2rolecreds refuses a Code other than "Success".
type imdsCredentials struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
	Expiration      string `json:",omitempty"`
}

// imdsError is the body of a failed retrieval, in EC2's shape.
type imdsError struct {
	Code        string
	Message     string
	LastUpdated string
}

// serveIMDS answers the token PUT and the authenticated GETs under /latest/.
func (h *handler) serveIMDS(w *recorder, r *http.Request) {
	if r.URL.Path == tokenPath {
		h.issueToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	v := r.Header.Values(tokenHeader)
	if len(v) != 1 || !h.sessions.valid(v[0], h.now()) {
		w.WriteHeader(http.StatusUnauthorized) // IMDSv1, or an expired or unknown token
		return
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case strings.TrimSuffix(credsPath, "/"):
		writeText(w, h.role)
	case credsPath + h.role:
		h.serveRoleCredentials(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// issueToken answers PUT tokenPath: a random session token that lives for the seconds the
// client asked (1 to MaxIMDSTokenTTL; anything else is 400, as on EC2). The TTL is echoed
// in ttlHeader, which aws-sdk-go-v2 requires.
func (h *handler) issueToken(w *recorder, r *http.Request) {
	if r.Method != http.MethodPut {
		methodNotAllowed(w, http.MethodPut)
		return
	}
	v := r.Header.Values(ttlHeader)
	ttl, ok := 0, len(v) == 1
	if ok {
		ttl, ok = parseSeconds(v[0])
	}
	if !ok || ttl < 1 || ttl > h.maxTTL {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	tok, err := Token()
	if err != nil {
		w.err = err
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	now := h.now()
	h.sessions.add(tok, now.Add(time.Duration(ttl)*time.Second), now)
	w.Header().Set(ttlHeader, strconv.Itoa(ttl))
	writeText(w, tok)
}

// parseSeconds accepts decimal digits only (no sign, no spaces), up to a sane length.
func parseSeconds(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (h *handler) serveRoleCredentials(w *recorder, r *http.Request) {
	c, err := h.provider.Retrieve(r.Context())
	now := timestamp(h.now())
	if err != nil {
		w.err = err
		writeJSON(w, http.StatusInternalServerError, imdsError{Code: "CredentialsError", Message: truncate(err.Error(), maxMessage), LastUpdated: now})
		return
	}
	out := imdsCredentials{
		Code: "Success", LastUpdated: now, Type: "AWS-HMAC",
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
	}
	if !c.Expiration.IsZero() {
		out.Expiration = timestamp(c.Expiration)
	}
	writeJSON(w, http.StatusOK, out)
}

// sessions are the live IMDS session tokens, kept as SHA-256 digests (a lookup reveals
// nothing about a token's prefix, and the handler holds no usable token), at most max of
// them: issuing one more evicts the oldest.
type sessions struct {
	mu    sync.Mutex
	max   int
	live  map[[sha256.Size]byte]time.Time // digest -> expiry
	order [][sha256.Size]byte             // digests in the order they were issued
}

func newSessions(max int) *sessions {
	return &sessions{max: max, live: make(map[[sha256.Size]byte]time.Time)}
}

func (s *sessions) add(tok string, expires, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.order[:0:0]
	for _, d := range s.order {
		if exp, ok := s.live[d]; ok && exp.After(now) {
			kept = append(kept, d)
		} else {
			delete(s.live, d)
		}
	}
	for len(kept) >= s.max {
		delete(s.live, kept[0])
		kept = kept[1:]
	}
	d := digest(tok)
	s.order = append(kept, d)
	s.live[d] = expires
}

func (s *sessions) valid(tok string, now time.Time) bool {
	d := digest(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.live[d]
	if ok && !exp.After(now) {
		delete(s.live, d)
		return false
	}
	return ok
}

func digest(tok string) [sha256.Size]byte { return sha256.Sum256([]byte(tok)) }
