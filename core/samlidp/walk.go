package samlidp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// walkMode says what follow may do on the IdP's pages.
type walkMode struct {
	// password lets follow fill login forms (the form provider). Without it a login form
	// is explained by loginForm.
	password bool
	// loginForm explains a login form met where the login should be done already (Okta
	// after the session token, Kerberos); nil means a NoSAMLResponseError.
	loginForm func(p *response) error
	// unauthorized explains an HTTP 401 without a login form (Kerberos); nil means an
	// AnswerError.
	unauthorized func(p *response) error
}

// follow goes from page p to the SAMLResponse, as a browser with a patient user would:
//
//   - a page with a SAMLResponse field ends the walk;
//   - a login form (findLoginForm) is filled with the username and the password and
//     submitted, once: the same form again means the password was refused;
//   - an identifier-first form (findIdentifierForm) gets the username, once;
//   - a one-time code form (findCodeForm) gets Login.MFACode's answer, once;
//   - an intermediate form that needs nothing typed (findAutoSubmitForm) is submitted
//     as it is, at most maxFormHops times;
//   - anything else ends in a NoSAMLResponseError naming the page.
func (s *session) follow(ctx context.Context, l Login, p *response, mode walkMode) (string, error) {
	var passwordSent, usernameSent, codeSent bool
	hops := 0
	for {
		doc := parseHTML(p.body)
		if v, ok := extractSAMLResponse(doc); ok {
			return v, nil
		}
		forms := parseForms(doc)
		var next submission
		var err error
		loginForm, user, pw := findLoginForm(forms)
		identForm, identUser := findIdentifierForm(forms)
		switch {
		case loginForm != nil && !mode.password, identForm != nil && !mode.password:
			if mode.loginForm != nil {
				return "", mode.loginForm(p)
			}
			return "", s.noSAMLResponse(p, doc, "the IdP shows a login form")
		case loginForm != nil:
			if passwordSent {
				return "", s.refused(ErrWrongPassword, l, doc)
			}
			secret, err := password(ctx, l)
			if err != nil {
				return "", err
			}
			s.secret(secret)
			fill := map[*control]string{pw: secret}
			if user != nil {
				fill[user] = l.Username
			}
			passwordSent = true
			next, err = loginForm.submit(p.url, fill)
			if err != nil {
				return "", s.badForm(p, err)
			}
		case p.status == http.StatusUnauthorized && mode.unauthorized != nil:
			return "", mode.unauthorized(p)
		case p.status < 200 || p.status > 299:
			return "", &AnswerError{IdP: s.idp, Method: p.method, URL: redactURL(p.url), Status: p.status, Message: s.scrub(pageWords(doc))}
		case identForm != nil:
			if passwordSent || usernameSent {
				// Back at the username page: the IdP did not take the username, or the
				// password that followed it.
				ae := s.refused(ErrWrongPassword, l, doc)
				if !passwordSent {
					ae.Refused = "the username"
				}
				return "", ae
			}
			usernameSent = true
			next, err = identForm.submit(p.url, map[*control]string{identUser: l.Username})
			if err != nil {
				return "", s.badForm(p, err)
			}
		default:
			if codeForm, field := findCodeForm(forms); codeForm != nil {
				if codeSent {
					return "", s.refused(ErrWrongMFACode, l, doc)
				}
				if l.MFACode == nil {
					return "", &AccountError{IdP: s.idp, Username: l.Username, Kind: ErrMFARequired,
						Advice: fmt.Sprintf("it asks for a one-time code (field %q) and none can be asked here: set awskeep_mfa_process or run awskeep on a terminal", field.name)}
				}
				code, err := mfaCode(ctx, l)
				if err != nil {
					return "", err
				}
				s.secret(code)
				codeSent = true
				next, err = codeForm.submit(p.url, map[*control]string{field: code})
				if err != nil {
					return "", s.badForm(p, err)
				}
				break
			}
			f := findAutoSubmitForm(forms)
			if f == nil {
				return "", s.noSAMLResponse(p, doc, "")
			}
			if hops++; hops > maxFormHops {
				return "", s.noSAMLResponse(p, doc, fmt.Sprintf("gave up after %d intermediate forms", maxFormHops))
			}
			next, err = f.submit(p.url, nil)
			if err != nil {
				return "", s.badForm(p, err)
			}
			if awsSignIn(next.url) {
				// The form that should carry the SAMLResponse carries none: posting it to
				// AWS would only show AWS's error page.
				return "", s.noSAMLResponse(p, doc, "its form to AWS sign-in has no SAMLResponse")
			}
		}
		p, err = s.do(ctx, request{method: next.method, url: next.url, body: next.body, contentType: next.contentType, accept: acceptHTML, via: viaForm})
		if err != nil {
			return "", err
		}
	}
}

// refused is the IdP's refusal of what was just sent, with the page's error message. A
// form IdP has no error codes: a message that speaks of a locked account ("locked",
// "lockout") makes it ErrLockedOut, anything else kind.
func (s *session) refused(kind error, l Login, doc *html.Node) *AccountError {
	reason := s.scrub(errorText(doc))
	if low := strings.ToLower(reason); kind == ErrWrongPassword && (strings.Contains(low, "locked") || strings.Contains(low, "lockout")) {
		return &AccountError{IdP: s.idp, Username: l.Username, Kind: ErrLockedOut, Reason: reason,
			Advice: "ask the IdP's administrator to unlock it (not retried)"}
	}
	advice := "not retried: IdPs lock accounts after repeated failures"
	if kind == ErrWrongMFACode {
		advice = "not retried"
	}
	return &AccountError{IdP: s.idp, Username: l.Username, Kind: kind, Reason: reason, Advice: advice}
}

func (s *session) noSAMLResponse(p *response, doc *html.Node, reason string) error {
	// What the page says helps the user most ("You are not assigned to this
	// application"): its error message, else the start of its visible text.
	words := s.scrub(errorText(doc))
	if words == "" {
		words = capText(s.scrub(visibleText(body(doc))), 160)
	}
	switch {
	case reason == "" && words == "":
		reason = "the page has no form to go on with"
	case reason == "":
		reason = fmt.Sprintf("the page says %q", words)
	case words != "":
		reason += fmt.Sprintf("; the page says %q", words)
	}
	return &NoSAMLResponseError{URL: redactURL(p.url), Title: s.scrub(title(doc)), Reason: reason}
}

func (s *session) badForm(p *response, err error) error {
	return &NoSAMLResponseError{URL: redactURL(p.url), Reason: "the page's form cannot be submitted: " + err.Error()}
}

// pageWords is what an error page says: its error message, else its title.
func pageWords(doc *html.Node) string {
	if t := errorText(doc); t != "" {
		return t
	}
	return title(doc)
}

// awsSignIn reports whether u is AWS sign-in's SAML endpoint, where the browser would post
// the SAMLResponse: signin.aws.amazon.com (and its regional hosts), the GovCloud and China
// partitions' sign-in hosts.
func awsSignIn(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	for _, h := range []string{"signin.aws.amazon.com", "signin.amazonaws-us-gov.com", "signin.amazonaws.cn"} {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}
