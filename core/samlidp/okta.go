package samlidp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Okta logs in with the Okta classic Authentication API (developer.okta.com, "Authentication
// API"): POST {origin of Login.URL}/api/v1/authn with the username and password, a TOTP
// code to the factor's verify link when the transaction is MFA_REQUIRED ("Verify TOTP
// Factor"), then GET Login.URL?sessionToken=... , the AWS app's page with the SAMLResponse.
//
// Transaction statuses: SUCCESS ends the API part; MFA_REQUIRED is answered with the first
// TOTP factor (token:software:totp: Okta Verify or Google Authenticator; token:totp);
// PASSWORD_WARN is skipped; LOCKED_OUT, PASSWORD_EXPIRED and MFA_ENROLL are the user's to
// resolve in a browser; any other status is an AnswerError.
type Okta struct{}

// Login implements Provider.
func (Okta) Login(ctx context.Context, l Login) (string, error) {
	v, err := oktaLogin(ctx, l)
	return v, classify(err)
}

// oktaTxn is an authentication transaction (the Authentication API's "Transaction
// object") or an error answer ("Error object": errorCode, errorSummary, errorCauses).
type oktaTxn struct {
	Status       string `json:"status"`
	SessionToken string `json:"sessionToken"`
	StateToken   string `json:"stateToken"`
	Embedded     struct {
		Factors []oktaFactor `json:"factors"`
	} `json:"_embedded"`
	Links struct {
		Skip *oktaLink `json:"skip"`
	} `json:"_links"`

	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

type oktaFactor struct {
	ID         string `json:"id"`
	FactorType string `json:"factorType"`
	Provider   string `json:"provider"`
	Links      struct {
		Verify *oktaLink `json:"verify"`
	} `json:"_links"`
}

type oktaLink struct {
	Href string `json:"href"`
}

// totpFactorTypes are the factor types awskeep answers with Login.MFACode.
var totpFactorTypes = []string{"token:software:totp", "token:totp"}

// Okta error codes (developer.okta.com, "Error codes").
const (
	oktaAuthFailed      = "E0000004" // Authentication failed
	oktaInvalidPasscode = "E0000068" // Invalid Passcode/Answer
	oktaUserLocked      = "E0000069" // User Locked (too many factor attempts)
	oktaAccountLocked   = "E0000119" // Your account is locked
)

func oktaLogin(ctx context.Context, l Login) (string, error) {
	app, err := parseLoginURL(l.URL)
	if err != nil {
		return "", err
	}
	if err := checkCredentials(l); err != nil {
		return "", err
	}
	s := newSession(l.HTTPClient, "Okta")
	base := &url.URL{Scheme: app.Scheme, Host: app.Host}
	authn := base.ResolveReference(&url.URL{Path: "/api/v1/authn"})

	pw, err := password(ctx, l)
	if err != nil {
		return "", err
	}
	s.secret(pw)
	type options struct {
		MultiOptionalFactorEnroll bool `json:"multiOptionalFactorEnroll"`
		WarnBeforePasswordExpired bool `json:"warnBeforePasswordExpired"`
	}
	t, err := s.oktaCall(ctx, l, authn, struct {
		Username string  `json:"username"`
		Password string  `json:"password"`
		Options  options `json:"options"`
	}{l.Username, pw, options{}})
	if err != nil {
		return "", err
	}

	mfaDone := false
	for steps := 0; ; steps++ {
		s.secret(t.StateToken)
		s.secret(t.SessionToken)
		if steps > 4 {
			return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: t.Status,
				Advice: "the login does not end: finish it in a browser at " + origin(base)}
		}
		switch t.Status {
		case "SUCCESS":
			if t.SessionToken == "" {
				return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: t.Status,
					Advice: "the answer has no sessionToken"}
			}
			return s.oktaApp(ctx, l, app, t.SessionToken)
		case "MFA_REQUIRED":
			if mfaDone {
				return "", &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
					Advice: "it asks for a second factor after the TOTP code: finish the login in a browser at " + origin(base)}
			}
			mfaDone = true
			if t, err = s.oktaMFA(ctx, l, base, t); err != nil {
				return "", err
			}
		case "PASSWORD_WARN":
			// The password expires soon; the user may still go on (Okta's "Skip" link).
			if t.Links.Skip == nil || t.Links.Skip.Href == "" {
				return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: t.Status,
					Advice: "the password expires soon and Okta offers no way to skip changing it: change it in a browser at " + origin(base)}
			}
			skip, err := s.oktaLink(base, t.Links.Skip.Href)
			if err != nil {
				return "", err
			}
			if t, err = s.oktaCall(ctx, l, skip, struct {
				StateToken string `json:"stateToken"`
			}{t.StateToken}); err != nil {
				return "", err
			}
		case "LOCKED_OUT":
			return "", &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrLockedOut,
				Advice: "ask your Okta administrator to unlock it, or unlock it yourself in a browser at " + origin(base)}
		case "PASSWORD_EXPIRED":
			return "", &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrPasswordExpired,
				Advice: "change it in a browser at " + origin(base) + ", then try again"}
		case "MFA_ENROLL":
			return "", &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
				Advice: "it wants a factor enrolled first: sign in once in a browser at " + origin(base) + " and enroll an authenticator app (TOTP)"}
		default:
			return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: strings.ToUpper(capText(t.Status, 40)),
				Advice: "awskeep cannot go on from this transaction status: finish the login in a browser at " + origin(base)}
		}
	}
}

// oktaMFA answers an MFA_REQUIRED transaction with a TOTP code.
func (s *session) oktaMFA(ctx context.Context, l Login, base *url.URL, t *oktaTxn) (*oktaTxn, error) {
	var factor *oktaFactor
	var types []string
	for i, f := range t.Embedded.Factors {
		if !slices.Contains(types, f.FactorType) {
			types = append(types, f.FactorType)
		}
		if factor == nil && slices.Contains(totpFactorTypes, f.FactorType) && f.Links.Verify != nil && f.Links.Verify.Href != "" {
			factor = &t.Embedded.Factors[i]
		}
	}
	if factor == nil {
		have := "none"
		if len(types) > 0 {
			have = capText(strings.Join(types, ", "), 200)
		}
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
			Advice: fmt.Sprintf("the account's factors are %s; awskeep supports TOTP (%s): enroll an authenticator app in Okta", have, strings.Join(totpFactorTypes, ", "))}
	}
	if l.MFACode == nil {
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
			Advice: "it asks for a TOTP code and none can be asked here: set awskeep_mfa_process or run awskeep on a terminal"}
	}
	verify, err := s.oktaLink(base, factor.Links.Verify.Href)
	if err != nil {
		return nil, err
	}
	code, err := mfaCode(ctx, l)
	if err != nil {
		return nil, err
	}
	s.secret(code)
	return s.oktaCall(ctx, l, verify, struct {
		StateToken string `json:"stateToken"`
		PassCode   string `json:"passCode"`
	}{t.StateToken, code})
}

// oktaLink resolves a link from Okta's answer. The state token goes only to Okta's own
// origin: a link elsewhere is refused.
func (s *session) oktaLink(base *url.URL, href string) (*url.URL, error) {
	u, err := resolve(base, href)
	if err != nil || origin(u) != origin(base) {
		shown := redactURLString(href)
		if err == nil {
			shown = redactURL(u)
		}
		return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(base.ResolveReference(&url.URL{Path: "/api/v1/authn"})), Status: http.StatusOK,
			Advice: fmt.Sprintf("its link %q is not on %s: refusing to follow it", shown, origin(base))}
	}
	return u, nil
}

// oktaCall POSTs payload as JSON and decodes the transaction, turning Okta's error
// answers into the package's errors.
func (s *session) oktaCall(ctx context.Context, l Login, u *url.URL, payload any) (*oktaTxn, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	p, err := s.do(ctx, request{method: "POST", url: u, body: string(body), contentType: "application/json", accept: acceptJSON, via: viaOkta})
	if err != nil {
		return nil, err
	}
	var t oktaTxn
	jsonErr := json.Unmarshal(p.body, &t)
	if p.status >= 200 && p.status <= 299 {
		if jsonErr != nil || t.Status == "" {
			return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(p.url), Status: p.status,
				Advice: "not an Okta Authentication API answer: is awskeep_saml_url the AWS app's URL in your Okta org?"}
		}
		return &t, nil
	}
	if jsonErr != nil || t.ErrorCode == "" {
		ae := &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(p.url), Status: p.status}
		if p.status == http.StatusNotFound {
			ae.Advice = "no Okta Authentication API here: is awskeep_saml_url the AWS app's URL in your Okta org?"
		}
		return nil, ae
	}
	switch t.ErrorCode {
	case oktaAuthFailed:
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrWrongPassword,
			Advice: "not retried: Okta locks accounts after repeated failures"}
	case oktaInvalidPasscode:
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrWrongMFACode,
			Advice: "not retried: check the authenticator's clock and that the code is for this account"}
	case oktaUserLocked, oktaAccountLocked:
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrLockedOut, Reason: s.scrub(t.ErrorSummary),
			Advice: "ask your Okta administrator to unlock it"}
	}
	msg := t.ErrorSummary
	for _, c := range t.ErrorCauses {
		if c.ErrorSummary != "" {
			msg += "; " + c.ErrorSummary
		}
	}
	return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(p.url), Status: p.status, Code: capText(t.ErrorCode, 20), Message: s.scrub(msg)}
}

// oktaApp gets the AWS app's page with the session token and goes on to the SAMLResponse.
func (s *session) oktaApp(ctx context.Context, l Login, app *url.URL, sessionToken string) (string, error) {
	u := *app
	q := u.Query()
	q.Set("sessionToken", sessionToken)
	u.RawQuery = q.Encode()
	p, err := s.do(ctx, request{method: "GET", url: &u, accept: acceptHTML, via: viaSetting})
	if err != nil {
		return "", err
	}
	return s.follow(ctx, l, p, walkMode{loginForm: func(p *response) error {
		return &NoSAMLResponseError{URL: redactURL(p.url), Title: s.scrub(title(parseHTML(p.body))),
			Reason: "Okta shows its sign-in page: it did not take the session token (is awskeep_saml_url the AWS app's embed link in this Okta org?)"}
	}})
}
