package server

import (
	"crypto/subtle"
	"net/http"

	"github.com/awskeep/awskeep/core/creds"
)

// ecsCredentials is the body the container credential provider reads ("Container
// credential provider", AWS SDKs and Tools Reference Guide). RoleArn, which ECS adds, is
// left out: no client needs it and awskeep's credentials need not come from a role.
type ecsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	// Expiration is omitted for credentials that do not expire.
	Expiration string `json:"Expiration,omitempty"`
}

// ecsError is the error body the SDKs parse (aws-sdk-go-v2 endpointcreds reads "code" and
// "message").
type ecsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// serveECS answers GET ECSPath with credentials to a client that sends the token.
func (h *handler) serveECS(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	if !h.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized) // no body, no WWW-Authenticate: nothing to learn
		return
	}
	c, err := h.provider.Retrieve(r.Context())
	if err != nil {
		w.err = err
		writeJSON(w, http.StatusInternalServerError, ecsError{Code: "CredentialsError", Message: truncate(err.Error(), maxMessage)})
		return
	}
	writeJSON(w, http.StatusOK, toECS(c))
}

// authorized reports whether r carries exactly one Authorization header equal to the
// token, compared in constant time (the length, public anyway, is not hidden).
func (h *handler) authorized(r *http.Request) bool {
	v := r.Header.Values("Authorization")
	return len(v) == 1 && subtle.ConstantTimeCompare([]byte(v[0]), h.token) == 1
}

func toECS(c creds.Credentials) ecsCredentials {
	out := ecsCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken}
	if !c.Expiration.IsZero() {
		out.Expiration = timestamp(c.Expiration)
	}
	return out
}
