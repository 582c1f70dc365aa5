package samltest

import (
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"time"
)

// The fake's factor ids: every TOTP user has factor "f1", every push user factor "p1".
const (
	oktaFactorID     = "f1"
	oktaPushFactorID = "p1"
)

// PushAnswer is what the phone does with an Okta Verify push (Options.Push).
type PushAnswer string

// What the phone does with a push: after Options.PushWaits WAITING answers, the
// transaction ends in SUCCESS, or stays MFA_CHALLENGE with factorResult REJECTED or
// TIMEOUT.
const (
	PushApprove PushAnswer = "approve"
	PushReject  PushAnswer = "reject"
	PushIgnore  PushAnswer = "ignore"
)

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
	if factors := i.oktaFactors(req.Username); len(factors) > 0 {
		state := "00" + randomToken()
		i.mu.Lock()
		i.stateTokens[state] = req.Username
		i.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"stateToken": state,
			"expiresAt":  oktaTime(now.Add(5 * time.Minute)),
			"status":     "MFA_REQUIRED",
			"_embedded": map[string]any{
				"user":    oktaUser(req.Username),
				"factors": factors,
			},
			"_links": map[string]any{"cancel": i.oktaLink("/api/v1/authn/cancel")},
		})
		return
	}
	i.oktaSuccess(w, req.Username, now)
}

// oktaFactors are user's enrolled factors as the MFA_REQUIRED transaction lists them:
// the push factor first (Okta lists factors in no promised order), then the TOTP one.
func (i *IdP) oktaFactors(user string) []any {
	var factors []any
	if _, ok := i.opts.Push[user]; ok {
		factors = append(factors, map[string]any{
			"id":         oktaPushFactorID,
			"factorType": "push",
			"provider":   "OKTA",
			"vendorName": "OKTA",
			"profile":    oktaPushProfile(user),
			"_links":     map[string]any{"verify": i.oktaLink("/api/v1/authn/factors/" + oktaPushFactorID + "/verify")},
		})
	}
	if _, ok := i.opts.TOTP[user]; ok {
		factors = append(factors, map[string]any{
			"id":         oktaFactorID,
			"factorType": "token:software:totp",
			"provider":   "GOOGLE",
			"vendorName": "GOOGLE",
			"profile":    map[string]any{"credentialId": user},
			"_links":     map[string]any{"verify": i.oktaLink("/api/v1/authn/factors/" + oktaFactorID + "/verify")},
		})
	}
	return factors
}

func oktaPushProfile(user string) map[string]any {
	return map[string]any{"credentialId": user, "deviceType": "SmartPhone_Android", "name": "Pixel", "platform": "ANDROID", "version": "14"}
}

// oktaLink is a link object of the API: an href on the IdP and the method it allows.
func (i *IdP) oktaLink(path string) map[string]any {
	return map[string]any{"href": i.URL + path, "hints": map[string]any{"allow": []string{"POST"}}}
}

// oktaVerify answers POST /api/v1/authn/factors/{id}/verify with {stateToken, passCode}:
// an unknown stateToken is 403 E0000011, a factor the user does not have 404 E0000007; the
// TOTP factor goes on in oktaVerifyTOTP, the push factor in oktaVerifyPush.
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
	factor := r.PathValue("factor")
	_, totp := i.opts.TOTP[user]
	answer, push := i.opts.Push[user]
	switch {
	case factor == oktaFactorID && totp:
		i.oktaVerifyTOTP(w, user, req.StateToken, req.PassCode)
	case factor == oktaPushFactorID && push:
		i.oktaVerifyPush(w, user, req.StateToken, answer)
	default:
		writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+factor+" (UserFactor)")
	}
}

// oktaVerifyTOTP checks a passcode ("Verify TOTP Factor"): a wrong one is 403 E0000068 (the
// stateToken stays usable), the right one SUCCESS.
func (i *IdP) oktaVerifyTOTP(w http.ResponseWriter, user, state, passCode string) {
	i.mu.Lock()
	i.passcodes[user]++
	i.mu.Unlock()
	if want := i.opts.TOTP[user]; passCode == "" || passCode != want {
		i.mu.Lock()
		i.failed[user]++
		i.mu.Unlock()
		writeOktaError(w, http.StatusForbidden, "E0000068", "Invalid Passcode/Answer",
			"Your passcode doesn't match our records. Please try again.")
		return
	}
	i.mu.Lock()
	delete(i.stateTokens, state)
	i.mu.Unlock()
	i.oktaSuccess(w, user, i.now().UTC())
}

// oktaVerifyPush is "Verify Push Factor": the first call sends a push and answers
// MFA_CHALLENGE with factorResult WAITING and a "poll" next link (the same verify URL);
// each poll, a POST of {stateToken} there, answers WAITING until Options.PushWaits answers
// have been given, then the phone's answer: SUCCESS with a sessionToken, or MFA_CHALLENGE
// with factorResult REJECTED or TIMEOUT, after which the next verify call sends a new push.
func (i *IdP) oktaVerifyPush(w http.ResponseWriter, user, state string, answer PushAnswer) {
	waits := i.opts.PushWaits
	if waits <= 0 {
		waits = 1
	}
	i.mu.Lock()
	left, polling := i.pushes[state]
	if polling {
		left--
	} else {
		left = waits
		i.pushesSent[user]++
	}
	i.pushes[state] = left
	if left <= 0 {
		delete(i.pushes, state)
		if answer == PushApprove {
			delete(i.stateTokens, state)
		}
	}
	i.mu.Unlock()
	now := i.now().UTC()
	result := "WAITING"
	switch {
	case left > 0:
	case answer == PushApprove:
		i.oktaSuccess(w, user, now)
		return
	case answer == PushReject:
		result = "REJECTED"
	default:
		result = "TIMEOUT"
	}
	verify := "/api/v1/authn/factors/" + oktaPushFactorID + "/verify"
	next := i.oktaLink(verify)
	next["name"] = "poll"
	if result != "WAITING" {
		next["name"] = "verify" // a new push
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"stateToken":   state,
		"expiresAt":    oktaTime(now.Add(5 * time.Minute)),
		"status":       "MFA_CHALLENGE",
		"factorResult": result,
		"_embedded": map[string]any{
			"user": oktaUser(user),
			"factor": map[string]any{
				"id": oktaPushFactorID, "factorType": "push", "provider": "OKTA", "vendorName": "OKTA",
				"profile": oktaPushProfile(user),
			},
		},
		"_links": map[string]any{
			"next":   next,
			"cancel": i.oktaLink("/api/v1/authn/cancel"),
			"prev":   i.oktaLink("/api/v1/authn/previous"),
			"resend": []any{map[string]any{"name": "push", "href": i.URL + verify + "/resend", "hints": map[string]any{"allow": []string{"POST"}}}},
		},
	})
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
