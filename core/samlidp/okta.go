package samlidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Okta logs in with the Okta classic Authentication API (developer.okta.com, "Authentication
// API"): POST {origin of Login.URL}/api/v1/authn with the username and password, a second
// factor when the transaction is MFA_REQUIRED, then GET Login.URL?sessionToken=... , the AWS
// app's page with the SAMLResponse.
//
// Transaction statuses: SUCCESS ends the API part; MFA_REQUIRED is answered with one
// factor; PASSWORD_WARN is skipped; LOCKED_OUT, PASSWORD_EXPIRED and MFA_ENROLL are the
// user's to resolve in a browser; any other status is an AnswerError.
//
// The factor: the first TOTP factor (token:software:totp: Okta Verify or Google
// Authenticator; token:totp) whenever the account has one, its code from Login.MFACode
// ("Verify TOTP Factor"); otherwise the first Okta Verify push factor ("Verify Push
// Factor"): one push is sent, Notify tells the user to approve it, and the transaction is
// polled every PollInterval while it answers MFA_CHALLENGE with factorResult WAITING, until
// SUCCESS, REJECTED or TIMEOUT, ctx's end or pushWaitMax. TOTP comes first because it works
// without a phone at hand (awskeep_mfa_process) and never sends a push nobody expects. A
// refused code and a rejected or unanswered push are not tried again.
type Okta struct {
	// Notify shows a line to the user while awskeep waits for the push to be approved. Nil
	// writes it to the controlling terminal (/dev/tty), and nowhere when there is none: a
	// credential_process's stderr is read by nobody until it fails, and on failure it holds
	// one line, the error.
	Notify func(message string)
	// PollInterval is the time between two polls of a push; zero means pushPollInterval.
	PollInterval time.Duration
}

// Login implements Provider.
func (o Okta) Login(ctx context.Context, l Login) (string, error) {
	v, err := o.login(ctx, l)
	return v, classify(err)
}

// pushPollInterval is the default time between two polls of a push: a person takes
// seconds to approve one, and Okta rate-limits /api/v1/authn per org.
const pushPollInterval = time.Second

// pushWaitMax bounds the wait for a push when ctx has no deadline: Okta's state token, and
// so the push, expires after five minutes.
const pushWaitMax = 5 * time.Minute

// oktaTxn is an authentication transaction (the Authentication API's "Transaction
// object") or an error answer ("Error object": errorCode, errorSummary, errorCauses).
type oktaTxn struct {
	Status       string `json:"status"`
	SessionToken string `json:"sessionToken"`
	StateToken   string `json:"stateToken"`
	// FactorResult is the push's state in an MFA_CHALLENGE: WAITING, REJECTED, TIMEOUT.
	FactorResult string `json:"factorResult"`
	Embedded     struct {
		Factors []oktaFactor `json:"factors"`
	} `json:"_embedded"`
	Links struct {
		Skip *oktaLink `json:"skip"`
		Next *oktaLink `json:"next"`
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
	Name string `json:"name"`
	Href string `json:"href"`
}

// totpFactorTypes are the factor types awskeep answers with Login.MFACode.
var totpFactorTypes = []string{"token:software:totp", "token:totp"}

// pushFactorType is Okta Verify's push factor; its provider is OKTA.
const pushFactorType = "push"

// Okta error codes (developer.okta.com, "Error codes").
const (
	oktaAuthFailed      = "E0000004" // Authentication failed
	oktaInvalidPasscode = "E0000068" // Invalid Passcode/Answer
	oktaUserLocked      = "E0000069" // User Locked (too many factor attempts)
	oktaAccountLocked   = "E0000119" // Your account is locked
)

func (o Okta) login(ctx context.Context, l Login) (string, error) {
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
			return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: capText(s.scrub(t.Status), 40),
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
					Advice: "it asks for another factor after the first: finish the login in a browser at " + origin(base)}
			}
			mfaDone = true
			if t, err = s.oktaMFA(ctx, o, l, base, t); err != nil {
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
			return "", &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(authn), Status: http.StatusOK, Code: strings.ToUpper(capText(s.scrub(t.Status), 40)),
				Advice: "awskeep cannot go on from this transaction status: finish the login in a browser at " + origin(base)}
		}
	}
}

// oktaMFA answers an MFA_REQUIRED transaction with a TOTP code or, when the account has no
// TOTP factor, an Okta Verify push.
func (s *session) oktaMFA(ctx context.Context, o Okta, l Login, base *url.URL, t *oktaTxn) (*oktaTxn, error) {
	var totp, push *oktaFactor
	var types []string
	for i, f := range t.Embedded.Factors {
		if !slices.Contains(types, f.FactorType) {
			types = append(types, f.FactorType)
		}
		if f.Links.Verify == nil || f.Links.Verify.Href == "" {
			continue
		}
		switch {
		case totp == nil && slices.Contains(totpFactorTypes, f.FactorType):
			totp = &t.Embedded.Factors[i]
		case push == nil && f.FactorType == pushFactorType:
			push = &t.Embedded.Factors[i]
		}
	}
	if totp == nil && push != nil {
		return s.oktaPush(ctx, o, l, base, t, push)
	}
	if totp == nil {
		have := "none"
		if len(types) > 0 {
			have = capText(strings.Join(types, ", "), 200)
		}
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
			Advice: fmt.Sprintf("the account's factors are %s; awskeep supports TOTP (%s) and Okta Verify push: enroll an authenticator app in Okta", have, strings.Join(totpFactorTypes, ", "))}
	}
	if l.MFACode == nil {
		return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
			Advice: "it asks for a TOTP code and none can be asked here: set awskeep_mfa_process or run awskeep on a terminal"}
	}
	verify, err := s.oktaLink(base, totp.Links.Verify.Href)
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

// oktaPush sends one Okta Verify push and polls the transaction ("Verify Push Factor"):
// the verify call answers MFA_CHALLENGE with factorResult WAITING and a next link named
// "poll", where the stateToken is posted again until the status is SUCCESS (returned for
// the caller to go on) or the factorResult REJECTED or TIMEOUT. A push is never sent twice:
// the "resend" link is not used.
func (s *session) oktaPush(ctx context.Context, o Okta, l Login, base *url.URL, t *oktaTxn, factor *oktaFactor) (*oktaTxn, error) {
	u, err := s.oktaLink(base, factor.Links.Verify.Href)
	if err != nil {
		return nil, err
	}
	interval := o.PollInterval
	if interval <= 0 {
		interval = pushPollInterval
	}
	ctx, cancel := context.WithTimeoutCause(ctx, pushWaitMax, errPushExpired)
	defer cancel()
	notify := o.Notify
	if notify == nil {
		notify = notifyTerminal
	}
	type poll struct {
		StateToken string `json:"stateToken"`
	}
	state := t.StateToken
	if t, err = s.oktaCall(ctx, l, u, poll{state}); err != nil {
		return nil, err
	}
	notified := false
	for {
		s.secret(t.StateToken)
		s.secret(t.SessionToken)
		if t.Status != "MFA_CHALLENGE" {
			return t, nil
		}
		switch t.FactorResult {
		case "WAITING":
			if !notified {
				notify(fmt.Sprintf("approve the push on your phone: Okta Verify asks to sign in %s at %s", l.Username, base.Host))
				notified = true
			}
		case "REJECTED":
			return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
				Advice: "the Okta Verify push was rejected on the phone; no new push is sent: run awskeep again to get one"}
		case "TIMEOUT":
			return nil, &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
				Advice: "the Okta Verify push was not answered in time; no new push is sent: run awskeep again and approve it on the phone"}
		default:
			return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(u), Status: http.StatusOK,
				Code:   strings.ToUpper(capText("MFA_CHALLENGE "+s.scrub(t.FactorResult), 60)),
				Advice: "awskeep cannot go on from this push result: finish the login in a browser at " + origin(base)}
		}
		if t.Links.Next == nil || t.Links.Next.Href == "" {
			return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(u), Status: http.StatusOK, Code: "MFA_CHALLENGE WAITING",
				Advice: "the answer has no link to poll"}
		}
		if u, err = s.oktaLink(base, t.Links.Next.Href); err != nil {
			return nil, err
		}
		if t.StateToken != "" {
			state = t.StateToken
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, pushWaitError(ctx, l)
		case <-timer.C:
		}
		if t, err = s.oktaCall(ctx, l, u, poll{state}); err != nil {
			if ctx.Err() != nil {
				// The wait for the push ended during a poll rather than between two:
				// the same end, the same message.
				return nil, pushWaitError(ctx, l)
			}
			return nil, err
		}
	}
}

// errPushExpired ends the wait for a push after pushWaitMax.
var errPushExpired = errors.New("push expired")

// pushWaitError says that ctx ended while awskeep waited for the push.
func pushWaitError(ctx context.Context, l Login) error {
	err := context.Cause(ctx)
	if errors.Is(err, errPushExpired) {
		return &AccountError{IdP: "Okta", Username: l.Username, Kind: ErrMFARequired,
			Advice: fmt.Sprintf("the Okta Verify push was not answered within %v; no new push is sent: run awskeep again and approve it on the phone", pushWaitMax)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the Okta Verify push for %s was not approved in time (raise --timeout to wait longer): %w", l.Username, err)
	}
	return fmt.Errorf("waiting for the Okta Verify push for %s: %w", l.Username, err)
}

// notifyTerminal writes message as a line on the controlling terminal, if there is one.
func notifyTerminal(message string) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer tty.Close()
	_, _ = io.WriteString(tty, message+"\n")
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
	return nil, &AnswerError{IdP: "Okta", Method: "POST", URL: redactURL(p.url), Status: p.status, Code: capText(s.scrub(t.ErrorCode), 20), Message: s.scrub(msg)}
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
