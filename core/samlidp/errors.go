package samlidp

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error Login returns matches one of them with errors.Is (or
// context.Canceled / context.DeadlineExceeded, or the Password or MFACode callback's own
// error); the typed errors below carry the detail.
var (
	// ErrUnknownProvider: New got a name other than okta, form or kerberos.
	ErrUnknownProvider = errors.New("unknown SAML provider")
	// ErrInvalidLogin: the Login lacks a setting the provider needs (URL, username,
	// password source) or its URL is not an absolute http(s) URL.
	ErrInvalidLogin = errors.New("invalid SAML login settings")
	// ErrInsecureURL: a request would go over plain http to a host that is not loopback
	// (the configured URL, a redirect or a form's action).
	ErrInsecureURL = errors.New("IdP URL is not https")
	// ErrUnreachable: the IdP could not be reached at all (DNS, connection, TLS).
	ErrUnreachable = errors.New("IdP unreachable")
	// ErrWrongPassword: the IdP refused the username or the password.
	ErrWrongPassword = errors.New("IdP refused the password")
	// ErrWrongMFACode: the IdP refused the MFA code.
	ErrWrongMFACode = errors.New("IdP refused the MFA code")
	// ErrMFARequired: the IdP asks for a second factor awskeep cannot give: no MFACode
	// source, no TOTP factor enrolled, or a factor still to be enrolled.
	ErrMFARequired = errors.New("IdP requires MFA")
	// ErrLockedOut: the IdP says the account is locked.
	ErrLockedOut = errors.New("IdP account locked")
	// ErrPasswordExpired: the IdP says the password has expired and must be changed.
	ErrPasswordExpired = errors.New("IdP password expired")
	// ErrKerberosRefused: the IdP did not accept Kerberos (no ticket, a ticket it refused,
	// or no Negotiate offered).
	ErrKerberosRefused = errors.New("IdP did not accept Kerberos")
	// ErrNoSAMLResponse: the login ended on a page without a SAMLResponse.
	ErrNoSAMLResponse = errors.New("no SAMLResponse from the IdP")
	// ErrUnexpectedAnswer: the IdP answered with an HTTP status, an Okta error code or an
	// Okta transaction status that the login cannot go on from.
	ErrUnexpectedAnswer = errors.New("unexpected answer from the IdP")
)

// AccountError is the IdP's verdict on the account: a wrong password or MFA code, a locked
// account, an expired password, MFA that cannot be answered.
type AccountError struct {
	// IdP names the IdP as the user knows it: "Okta" or "the IdP at https://idp.example.com".
	IdP string
	// Username is the account's name at the IdP.
	Username string
	// Kind is the sentinel: ErrWrongPassword, ErrWrongMFACode, ErrLockedOut,
	// ErrPasswordExpired or ErrMFARequired.
	Kind error
	// Reason is the IdP's own words (its error message), scrubbed of secrets; may be empty.
	Reason string
	// Advice says what the user can do; may be empty.
	Advice string
	// Refused names what ErrWrongPassword refused when it was not the password: "the
	// username" (an identifier-first page that came back). Empty means the password.
	Refused string
}

// Error reads, for example, "Okta refused the password for alice (not retried: Okta locks
// accounts after repeated failures)".
func (e *AccountError) Error() string {
	var b strings.Builder
	switch e.Kind {
	case ErrWrongPassword:
		if e.Refused != "" {
			fmt.Fprintf(&b, "%s refused %s %s", e.IdP, e.Refused, e.Username)
		} else {
			fmt.Fprintf(&b, "%s refused the password for %s", e.IdP, e.Username)
		}
	case ErrWrongMFACode:
		fmt.Fprintf(&b, "%s refused the MFA code for %s", e.IdP, e.Username)
	case ErrLockedOut:
		fmt.Fprintf(&b, "%s has locked the account %s", e.IdP, e.Username)
	case ErrPasswordExpired:
		fmt.Fprintf(&b, "%s says the password for %s has expired", e.IdP, e.Username)
	case ErrMFARequired:
		fmt.Fprintf(&b, "%s requires MFA for %s", e.IdP, e.Username)
	default:
		fmt.Fprintf(&b, "%s: %v for %s", e.IdP, e.Kind, e.Username)
	}
	if e.Reason != "" {
		// The IdP's words are quoted, so nothing in them passes for awskeep's own.
		fmt.Fprintf(&b, ": %q", e.Reason)
	}
	if e.Advice != "" {
		if e.Kind == ErrWrongPassword || e.Kind == ErrWrongMFACode {
			fmt.Fprintf(&b, " (%s)", e.Advice)
		} else {
			b.WriteString(": " + e.Advice)
		}
	}
	return b.String()
}

// Unwrap returns Kind.
func (e *AccountError) Unwrap() error { return e.Kind }

// UnreachableError is a request that got no HTTP answer: DNS, connection, TLS.
type UnreachableError struct {
	// Origin is scheme://host[:port] of the request that failed.
	Origin string
	// Err is the transport's error (never a *url.Error, whose text holds the query).
	Err error
	// Hint is advice for the cause, e.g. to set ca_bundle; may be empty.
	Hint string
}

// Error reads "cannot reach the IdP at https://idp.example.com: <cause>".
func (e *UnreachableError) Error() string {
	s := fmt.Sprintf("cannot reach the IdP at %s: %v", e.Origin, e.Err)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns ErrUnreachable and the cause, so both match with errors.Is.
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// InsecureURLError is a URL awskeep will not send a request to: plain http to a host that
// is not loopback.
type InsecureURLError struct {
	// URL is the URL without its query.
	URL string
	// Via says where the URL came from: "awskeep_saml_url", "a redirect", "the form's action".
	Via string
}

// Error reads "refusing http://idp.example.com/sso from a redirect: awskeep talks to IdPs
// over https only (plain http only on loopback)".
func (e *InsecureURLError) Error() string {
	return fmt.Sprintf("refusing %s from %s: awskeep talks to IdPs over https only (plain http only on loopback)", e.URL, e.Via)
}

// Unwrap returns ErrInsecureURL.
func (e *InsecureURLError) Unwrap() error { return ErrInsecureURL }

// AnswerError is an answer the login cannot go on from: an HTTP error status, an Okta
// error code, an Okta transaction status awskeep does not handle, a body that is not what
// the protocol says.
type AnswerError struct {
	// IdP names the IdP: "Okta" or "the IdP".
	IdP string
	// Method and URL (without its query) name the request.
	Method, URL string
	// Status is the HTTP status code; 0 when the status was fine and the body was not.
	Status int
	// Code is Okta's errorCode (E0000047) or transaction status (RECOVERY); may be empty.
	Code string
	// Message is the IdP's own words (Okta's errorSummary), scrubbed; may be empty.
	Message string
	// Advice says what the user can do; may be empty.
	Advice string
}

// Error reads, for example, "the IdP answered HTTP 500 Internal Server Error to GET
// https://idp.example.com/sso" or "Okta answered HTTP 429 E0000047 to POST
// https://example.okta.com/api/v1/authn: \"API call exceeded rate limit\"".
func (e *AnswerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered", e.IdP)
	if e.Status != 0 && (e.Status < 200 || e.Status > 299) {
		fmt.Fprintf(&b, " HTTP %d", e.Status)
		if e.Code == "" {
			if t := statusText(e.Status); t != "" {
				b.WriteString(" " + t)
			}
		}
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Status >= 200 && e.Status <= 299 && e.Code == "" {
		b.WriteString(" unexpectedly")
	}
	fmt.Fprintf(&b, " to %s %s", e.Method, e.URL)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %q", e.Message)
	}
	if e.Advice != "" {
		b.WriteString(": " + e.Advice)
	}
	return b.String()
}

// Unwrap returns ErrUnexpectedAnswer.
func (e *AnswerError) Unwrap() error { return ErrUnexpectedAnswer }

// NoSAMLResponseError is the page a login ended on when it held no SAMLResponse.
type NoSAMLResponseError struct {
	// URL is the page's URL after redirects, without its query.
	URL string
	// Title is the page's <title>, scrubbed and capped; may be empty.
	Title string
	// Reason says what awskeep found instead; may be empty.
	Reason string
}

// Error reads "no SAMLResponse in the page at https://idp.example.com/sso (title \"Error\"):
// <reason>".
func (e *NoSAMLResponseError) Error() string {
	s := "no SAMLResponse in the page at " + e.URL
	if e.Title != "" {
		s += fmt.Sprintf(" (title %q)", e.Title)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns ErrNoSAMLResponse.
func (e *NoSAMLResponseError) Unwrap() error { return ErrNoSAMLResponse }

// KerberosError says why the IdP did not accept Kerberos.
type KerberosError struct {
	// URL is the IdP's URL without its query.
	URL string
	// Reason names the step that failed in a few words ("no usable Kerberos ticket") or,
	// without Err, says what happened and what to check.
	Reason string
	// Err is the cause (package spnego's error); may be nil.
	Err error
}

// Error reads "Kerberos for https://idp.example.com/sso: <cause>", or "...: <reason>"
// when there is no cause. Package spnego's error already names the failing step (the
// ticket cache, the KDC, the server's answer) and the fix, so Reason is not repeated in
// front of it: the caller's line says "IdP login (kerberos)" once, and no more.
func (e *KerberosError) Error() string {
	if e.Err != nil {
		return "Kerberos for " + e.URL + ": " + e.Err.Error()
	}
	return "Kerberos for " + e.URL + ": " + e.Reason
}

// Unwrap returns ErrKerberosRefused and the cause.
func (e *KerberosError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrKerberosRefused}
	}
	return []error{ErrKerberosRefused, e.Err}
}
