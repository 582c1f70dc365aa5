package samltest

import (
	"html/template"
	"net/http"
	"slices"
)

// Form names the fields of the form login, so one IdP can look like a generic form IdP
// (the defaults), ADFS (ADFSForm) or a Shibboleth-like one.
type Form struct {
	// Path is where the login page is served, for GET (the form) and POST (the login);
	// default "/login". The form posts back to the URL it was fetched from, query included,
	// as ADFS does.
	Path string
	// UsernameField and PasswordField name the inputs; default "username" and "password".
	UsernameField, PasswordField string
	// CSRFField names the hidden CSRF token; default "csrf_token". The token must come back
	// with the cookie set by GET (double submit); a POST without them is refused with 403.
	CSRFField string
	// NoCSRF leaves the CSRF token out.
	NoCSRF bool
	// Hidden are more hidden inputs; the POST must send them back unchanged (else 400).
	Hidden map[string]string
	// ErrorText is shown, with the form again and HTTP 200, after a wrong password; default
	// "Incorrect username or password."
	ErrorText string
}

// ADFSForm is the login form of ADFS's IdP-initiated sign-on page: UserName, Password and the
// hidden AuthMethod=FormsAuthentication, no CSRF field, at
// /adfs/ls/IdpInitiatedSignOn.aspx (fetch it with ?loginToRp=urn:amazon:webservices).
func ADFSForm() Form {
	return Form{
		Path:          "/adfs/ls/IdpInitiatedSignOn.aspx",
		UsernameField: "UserName",
		PasswordField: "Password",
		NoCSRF:        true,
		Hidden:        map[string]string{"AuthMethod": "FormsAuthentication"},
		ErrorText:     "Incorrect user ID or password. Type the correct user ID and password, and try again.",
	}
}

func (f Form) withDefaults() Form {
	if f.Path == "" {
		f.Path = "/login"
	}
	if f.UsernameField == "" {
		f.UsernameField = "username"
	}
	if f.PasswordField == "" {
		f.PasswordField = "password"
	}
	if f.CSRFField == "" {
		f.CSRFField = "csrf_token"
	}
	if f.ErrorText == "" {
		f.ErrorText = "Incorrect username or password."
	}
	return f
}

// Cookie names of the form login.
const (
	csrfCookie    = "samltest_csrf"
	sessionCookie = "samltest_session"
)

func (i *IdP) routes() {
	i.mux.HandleFunc("GET "+i.form.Path, i.loginPage)
	i.mux.HandleFunc("POST "+i.form.Path, i.login)
	i.mux.HandleFunc("GET /sso", i.sso)
	i.mux.HandleFunc("GET /broken", broken)
	i.mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		i.identityProvider(i.now()).ServeMetadata(w, r)
	})
	i.mux.HandleFunc("POST /api/v1/authn", i.oktaAuthn)
	i.mux.HandleFunc("POST /api/v1/authn/factors/{factor}/verify", i.oktaVerify)
	i.mux.HandleFunc("GET "+OktaAppPath, i.oktaApp)
}

// loginPage has, like real IdP pages, another form before the login form (a language
// picker), so a client must pick the form with the password field.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body>
<form id="language" action="/language" method="get"><select name="lang"><option>en</option><option>fr</option></select></form>
<h1>Sign in to samltest</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form id="loginForm" action="{{.Action}}" method="post">
{{if .CSRFField}}<input type="hidden" name="{{.CSRFField}}" value="{{.CSRF}}"/>{{end}}
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}"/>
{{end}}<label>User name <input type="text" name="{{.UsernameField}}" value="{{.Username}}" autocomplete="username"/></label>
<label>Password <input type="password" name="{{.PasswordField}}" autocomplete="current-password"/></label>
<input type="checkbox" name="remember" value="1"/> Keep me signed in
<button type="submit">Sign in</button>
</form>
</body></html>
`))

type loginData struct {
	Action, Error, Username      string
	UsernameField, PasswordField string
	CSRFField, CSRF              string
	Hidden                       map[string]string
}

// showLogin writes the login form with a fresh CSRF token.
func (i *IdP) showLogin(w http.ResponseWriter, r *http.Request, errText, username string) {
	d := loginData{
		Action: r.URL.RequestURI(), Error: errText, Username: username,
		UsernameField: i.form.UsernameField, PasswordField: i.form.PasswordField,
		Hidden: i.form.Hidden,
	}
	if !i.form.NoCSRF {
		d.CSRFField, d.CSRF = i.form.CSRFField, randomToken()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: d.CSRF, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = loginPage.Execute(w, d)
}

func (i *IdP) loginPage(w http.ResponseWriter, r *http.Request) { i.showLogin(w, r, "", "") }

// login checks the posted form: CSRF token and hidden fields (refused outright), then the
// password (the form again, with ErrorText), then sets the session cookie and redirects to
// /sso.
func (i *IdP) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !i.form.NoCSRF {
		c, err := r.Cookie(csrfCookie)
		if err != nil || c.Value == "" || r.PostForm.Get(i.form.CSRFField) != c.Value {
			http.Error(w, "Your sign-in page expired or the CSRF token is missing: reload the sign-in page.", http.StatusForbidden)
			return
		}
	}
	for k, v := range i.form.Hidden {
		if r.PostForm.Get(k) != v {
			http.Error(w, "missing or changed hidden field "+k, http.StatusBadRequest)
			return
		}
	}
	user, password := r.PostForm.Get(i.form.UsernameField), r.PostForm.Get(i.form.PasswordField)
	switch {
	case !i.checkPassword(user, password):
		i.showLogin(w, r, i.form.ErrorText, user)
		return
	case slices.Contains(i.opts.Locked, user):
		i.showLogin(w, r, "Your account is locked. Contact your administrator.", user)
		return
	}
	id := randomToken()
	i.mu.Lock()
	i.sessions[id] = user
	i.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/sso", http.StatusFound)
}

// checkPassword reports whether password is user's, and counts a failure otherwise.
func (i *IdP) checkPassword(user, password string) bool {
	want, ok := i.opts.Users[user]
	if ok && password == want {
		return true
	}
	i.mu.Lock()
	i.failed[user]++
	i.mu.Unlock()
	return false
}

// sso answers a logged-in browser with the SAMLResponse page, anyone else with a redirect to
// the login page.
func (i *IdP) sso(w http.ResponseWriter, r *http.Request) {
	var user string
	if c, err := r.Cookie(sessionCookie); err == nil {
		i.mu.Lock()
		user = i.sessions[c.Value]
		i.mu.Unlock()
	}
	if user == "" {
		http.Redirect(w, r, i.form.Path, http.StatusFound)
		return
	}
	i.SSOPage(w, r, user)
}

// broken is a page an IdP may show instead of the SAMLResponse (here: the user is not
// assigned the application): a form to AWS, but no SAMLResponse in it.
func broken(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!DOCTYPE html>
<html><head><title>Access denied</title></head>
<body>
<h1>Sorry, you can't access Amazon Web Services</h1>
<p>You are not assigned to this application. Contact your administrator.</p>
<form method="post" action="` + SignInURL + `"><input type="hidden" name="RelayState" value=""/></form>
</body></html>
`))
}
