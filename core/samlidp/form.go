package samlidp

import "context"

// Form logs in through an IdP's HTML login form: ADFS forms authentication (UserName,
// Password, AuthMethod), Shibboleth (j_username, j_password, _eventId_proceed and its
// intermediate "Loading Session Information" form), Keycloak, SimpleSAMLphp and the like.
//
// It gets Login.URL with a fresh cookie jar, following redirects, parses each page as a
// browser would (HTML5 parsing, golang.org/x/net/html) and goes on until a page holds the
// SAMLResponse field:
//
//   - The login form is the first form with an enabled, named <input type="password">.
//     Its username field is the first enabled, named text-like input (type text, email,
//     tel, number, search or url) that matches, in this order: (1) a name or id in a list
//     of known names, compared in lower case and also after an ASP.NET "$" or JSF ":" or
//     "." qualifier: username, user, user_name, userid, user_id, login, login_name,
//     loginname, email, emailaddress, email_address, loginfmt (Microsoft), j_username
//     (Shibboleth and Java servlets), pf.username (PingFederate), uid, identifier — ADFS's
//     UserName matches "username"; (2) autocomplete="username" or "email"; (3) a name or
//     id containing user, login, email, mail or account; (4) type="email"; (5) the last
//     text-like input before the password field. A form without one (the username in a
//     hidden field) is posted with the password only. The other fields keep their values
//     (hidden fields, CSRF tokens, checked boxes, selected options), and the form's first
//     submit button is sent as the submitter (Shibboleth needs its _eventId_proceed).
//     Login.Password is called at this point, not before, and once: the login form coming
//     back after the password was sent is ErrWrongPassword (ErrLockedOut when the page's
//     error message speaks of a locked account), quoting the page's visible error message.
//   - An identifier-first page (no password field, a username field by rule 1 or 2 and
//     nothing else to type) gets the username, once.
//   - A one-time code page (no password field, one empty text field with
//     autocomplete="one-time-code" or a name like otp, code, passcode, token, totp, mfa,
//     j_tokenNumber) gets Login.MFACode's answer, once; a nil MFACode is ErrMFARequired
//     and the page coming back ErrWrongMFACode.
//   - A form with nothing to type (all hidden fields: a script submits it in a browser) is
//     submitted as it is, at most five times per login, but never to AWS sign-in: a form
//     to AWS without a SAMLResponse means the IdP gave none (ErrNoSAMLResponse).
//   - Any other page is ErrNoSAMLResponse naming it (URL without query, title, error
//     message), or an AnswerError for an HTTP error status.
//
// Forms are submitted as HTML says: the action resolved against the page's URL (no action:
// the page's URL itself), GET in the query, POST as application/x-www-form-urlencoded or
// multipart/form-data.
type Form struct{}

// Login implements Provider.
func (Form) Login(ctx context.Context, l Login) (string, error) {
	v, err := formLogin(ctx, l)
	return v, classify(err)
}

func formLogin(ctx context.Context, l Login) (string, error) {
	u, err := parseLoginURL(l.URL)
	if err != nil {
		return "", err
	}
	if err := checkCredentials(l); err != nil {
		return "", err
	}
	s := newSession(l.HTTPClient, "the IdP at "+origin(u))
	p, err := s.do(ctx, request{method: "GET", url: u, accept: acceptHTML, via: viaSetting})
	if err != nil {
		return "", err
	}
	return s.follow(ctx, l, p, walkMode{password: true})
}
