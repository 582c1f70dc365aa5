package samltest

import (
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"time"
)

// The fake's one factor id: every TOTP user has factor "f1".
const oktaFactorID = "f1"

// oktaError is the error body of the Okta API.
type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []oktaCauses `json:"errorCauses"`
}

type oktaCauses struct {
	ErrorSummary string `json:"errorSummary"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOktaError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	e := oktaError{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + randomToken()[:20], ErrorCauses: []oktaCauses{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, oktaCauses{ErrorSummary: c})
	}
	writeJSON(w, status, e)
}

// readOktaJSON decodes a JSON request body as Okta does: Content-Type application/json
// required, and a well-formed body.
func readOktaJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeOktaError(w, http.StatusUnsupportedMediaType, "E0000021",
			"Bad request.  Accept and/or Content-Type headers likely do not match supported values.")
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		writeOktaError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return false
	}
	return true
}

// oktaAuthn is primary authentication, POST /api/v1/authn (Okta Authentication API): a
// wrong password is 401 E0000004; a locked user is LOCKED_OUT; a user with a TOTP factor is
// MFA_REQUIRED with a stateToken; anyone else SUCCESS with a one-time sessionToken.
func (i *IdP) oktaAuthn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !readOktaJSON(w, r, &req) {
		return
	}
	if !i.checkPassword(req.Username, req.Password) {
		writeOktaError(w, http.StatusUnauthorized, "E0000004", "Authentication failed")
		return
	}
	now := i.now().UTC()
	if slices.Contains(i.opts.Locked, req.Username) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "LOCKED_OUT", "_links": map[string]any{}})
		return
	}
	if _, ok := i.opts.TOTP[req.Username]; ok {
		state := "00" + randomToken()
		i.mu.Lock()
		i.stateTokens[state] = req.Username
		i.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"stateToken": state,
			"expiresAt":  oktaTime(now.Add(5 * time.Minute)),
			"status":     "MFA_REQUIRED",
			"_embedded": map[string]any{
				"user": oktaUser(req.Username),
				"factors": []any{map[string]any{
					"id":         oktaFactorID,
					"factorType": "token:software:totp",
					"provider":   "GOOGLE",
					"vendorName": "GOOGLE",
					"profile":    map[string]any{"credentialId": req.Username},
					"_links": map[string]any{"verify": map[string]any{
						"href":  i.URL + "/api/v1/authn/factors/" + oktaFactorID + "/verify",
						"hints": map[string]any{"allow": []string{"POST"}},
					}},
				}},
			},
			"_links": map[string]any{"cancel": map[string]any{
				"href":  i.URL + "/api/v1/authn/cancel",
				"hints": map[string]any{"allow": []string{"POST"}},
			}},
		})
		return
	}
	i.oktaSuccess(w, req.Username, now)
}

// oktaVerify verifies the TOTP factor, POST /api/v1/authn/factors/{id}/verify with
// {stateToken, passCode}: an unknown stateToken is 403 E0000011, a wrong passcode 403
// E0000068 (the stateToken stays usable), the right one SUCCESS.
func (i *IdP) oktaVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		StateToken string `json:"stateToken"`
		PassCode   string `json:"passCode"`
	}
	if !readOktaJSON(w, r, &req) {
		return
	}
	i.mu.Lock()
	user, ok := i.stateTokens[req.StateToken]
	i.mu.Unlock()
	if !ok || req.StateToken == "" {
		writeOktaError(w, http.StatusForbidden, "E0000011", "Invalid token provided")
		return
	}
	if r.PathValue("factor") != oktaFactorID {
		writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.PathValue("factor")+" (UserFactor)")
		return
	}
	if want := i.opts.TOTP[user]; req.PassCode == "" || req.PassCode != want {
		i.mu.Lock()
		i.failed[user]++
		i.mu.Unlock()
		writeOktaError(w, http.StatusForbidden, "E0000068", "Invalid Passcode/Answer",
			"Your passcode doesn't match our records. Please try again.")
		return
	}
	i.mu.Lock()
	delete(i.stateTokens, req.StateToken)
	i.mu.Unlock()
	i.oktaSuccess(w, user, i.now().UTC())
}

// oktaSuccess answers SUCCESS with a new one-time sessionToken for user.
func (i *IdP) oktaSuccess(w http.ResponseWriter, user string, now time.Time) {
	token := "20111" + randomToken()
	i.mu.Lock()
	i.sessionTokens[token] = user
	i.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"expiresAt":    oktaTime(now.Add(5 * time.Minute)),
		"status":       "SUCCESS",
		"sessionToken": token,
		"_embedded":    map[string]any{"user": oktaUser(user)},
	})
}

func oktaUser(user string) map[string]any {
	return map[string]any{
		"id":      "00u" + user,
		"profile": map[string]any{"login": user, "locale": "en", "timeZone": "UTC"},
	}
}

func oktaTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }

var oktaDenied = template.Must(template.New("denied").Parse(`<!DOCTYPE html>
<html><head><title>403 Forbidden</title></head>
<body><h1>403 - Forbidden</h1><p>{{.}}</p></body></html>
`))

// oktaApp is the AWS application's SAML URL: with a valid sessionToken (used once) it is the
// SAMLResponse page; with none or an invalid one, a 403 page.
func (i *IdP) oktaApp(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("sessionToken")
	i.mu.Lock()
	user, ok := i.sessionTokens[token]
	delete(i.sessionTokens, token)
	i.mu.Unlock()
	if token == "" || !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_ = oktaDenied.Execute(w, "You do not have permission to access the feature you are requesting (invalid or used session token).")
		return
	}
	i.SSOPage(w, r, user)
}
