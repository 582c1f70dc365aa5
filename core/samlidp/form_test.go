package samlidp

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/samltest"
)

func TestFormLogin(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users:  map[string]string{"alice": "correct horse", "carol": "battery staple"},
		Locked: []string{"carol"},
	})
	adfs := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": "correct horse"}, Form: samltest.ADFSForm()})

	t.Run("success", func(t *testing.T) {
		pw := &answer{value: "correct horse"}
		v, err := Form{}.Login(ctxT(t), Login{URL: idp.LoginURL, Username: "alice", Password: pw.fn, MFACode: never(t, "MFACode")})
		if err != nil {
			t.Fatal(err)
		}
		checkResponse(t, v, "alice")
		if n := pw.calls.Load(); n != 1 {
			t.Errorf("Password called %d times", n)
		}
	})
	t.Run("the SSO URL redirects to the login page", func(t *testing.T) {
		v, err := Form{}.Login(ctxT(t), Login{URL: idp.SSOURL, Username: "alice", Password: (&answer{value: "correct horse"}).fn})
		if err != nil {
			t.Fatal(err)
		}
		checkResponse(t, v, "alice")
	})
	t.Run("ADFS", func(t *testing.T) {
		v, err := Form{}.Login(ctxT(t), Login{URL: adfs.LoginURL + "?loginToRp=urn:amazon:webservices", Username: "alice", Password: (&answer{value: "correct horse"}).fn})
		if err != nil {
			t.Fatal(err)
		}
		checkResponse(t, v, "alice")
	})
	t.Run("ADFS wrong password", func(t *testing.T) {
		before := adfs.FailedLogins("alice")
		pw := &answer{value: "wrong-secret-1"}
		_, err := Form{}.Login(ctxT(t), Login{URL: adfs.LoginURL + "?loginToRp=urn:amazon:webservices", Username: "alice", Password: pw.fn})
		wantErr(t, err, creds.ClassIdP, []error{ErrWrongPassword}, "the IdP at "+adfs.URL+" refused the password for alice",
			`"Incorrect user ID or password. Type the correct user ID and password, and try again."`, "not retried")
		noSecrets(t, err, "wrong-secret-1")
		if n := adfs.FailedLogins("alice") - before; n != 1 || pw.calls.Load() != 1 {
			t.Errorf("%d failed logins, %d password calls: want 1 each (never retried)", n, pw.calls.Load())
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		before := idp.FailedLogins("alice")
		pw := &answer{value: "wrong-secret-2"}
		_, err := Form{}.Login(ctxT(t), Login{URL: idp.LoginURL, Username: "alice", Password: pw.fn})
		wantErr(t, err, creds.ClassIdP, []error{ErrWrongPassword}, "refused the password for alice: \"Incorrect username or password.\"")
		noSecrets(t, err, "wrong-secret-2")
		if n := idp.FailedLogins("alice") - before; n != 1 || pw.calls.Load() != 1 {
			t.Errorf("%d failed logins, %d password calls: want 1 each (never retried)", n, pw.calls.Load())
		}
		var ae *AccountError
		if !errors.As(err, &ae) || ae.Username != "alice" {
			t.Errorf("not an *AccountError for alice: %#v", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := Form{}.Login(ctxT(t), Login{URL: idp.LoginURL, Username: "mallory", Password: (&answer{value: "x-secret"}).fn})
		wantErr(t, err, creds.ClassIdP, []error{ErrWrongPassword}, "refused the password for mallory")
	})
	t.Run("locked", func(t *testing.T) {
		_, err := Form{}.Login(ctxT(t), Login{URL: idp.LoginURL, Username: "carol", Password: (&answer{value: "battery staple"}).fn})
		wantErr(t, err, creds.ClassIdP, []error{ErrLockedOut}, "has locked the account carol", "Your account is locked")
		noSecrets(t, err, "battery staple")
	})
	t.Run("page without SAMLResponse", func(t *testing.T) {
		_, err := Form{}.Login(ctxT(t), Login{URL: idp.BrokenURL + "?RelayState=secret-relay", Username: "alice", Password: never(t, "Password")})
		wantErr(t, err, creds.ClassIdP, []error{ErrNoSAMLResponse}, "no SAMLResponse in the page at "+idp.BrokenURL+" (title \"Access denied\")")
		noSecrets(t, err, "secret-relay", "?")
	})
	t.Run("unreachable", func(t *testing.T) {
		u := closedURL(t)
		_, err := Form{}.Login(ctxT(t), Login{URL: u + "/login?x=secret-query", Username: "alice", Password: never(t, "Password")})
		wantErr(t, err, creds.ClassIdP, []error{ErrUnreachable}, "cannot reach the IdP at "+u+": ", "connection refused", "(check awskeep_saml_url, and the network, VPN or proxy to the IdP)")
		noSecrets(t, err, "secret-query")
	})
	t.Run("password source fails", func(t *testing.T) {
		_, err := Form{}.Login(ctxT(t), Login{URL: idp.LoginURL, Username: "alice", Password: (&answer{err: prompt.ErrNoTerminal}).fn})
		wantErr(t, err, creds.ClassPrompt, []error{prompt.ErrNoTerminal}, "cannot get the IdP password for alice")
	})
	t.Run("caller's client unchanged", func(t *testing.T) {
		base := &http.Client{Timeout: 20 * time.Second}
		if _, err := (Form{}).Login(ctxT(t), Login{URL: idp.LoginURL, Username: "alice", Password: (&answer{value: "correct horse"}).fn, HTTPClient: base}); err != nil {
			t.Fatal(err)
		}
		if base.Jar != nil || base.CheckRedirect != nil {
			t.Fatal("Login changed the caller's http.Client")
		}
	})
}

func TestLoginSettings(t *testing.T) {
	pw := func(context.Context) (string, error) { return "x", nil }
	tests := []struct {
		name   string
		l      Login
		target error
		text   string
	}{
		{"no URL", Login{Username: "a", Password: pw}, ErrInvalidLogin, "awskeep_saml_url is not set"},
		{"relative URL", Login{URL: "/login", Username: "a", Password: pw}, ErrInvalidLogin, "is not a valid absolute https URL"},
		{"bad URL keeps its query out", Login{URL: "https://idp.example.com/%zz?token=secret-q", Username: "a", Password: pw}, ErrInvalidLogin, `"https://idp.example.com/%zz"`},
		{"plain http", Login{URL: "http://idp.example.com/login?x=secret-q", Username: "a", Password: pw}, ErrInsecureURL, "refusing http://idp.example.com/login from awskeep_saml_url"},
		{"no username", Login{URL: "https://idp.example.com/", Password: pw}, ErrInvalidLogin, "awskeep_saml_username is not set"},
		{"no password source", Login{URL: "https://idp.example.com/", Username: "a"}, ErrInvalidLogin, "no password source for a"},
	}
	for _, tt := range tests {
		for _, name := range []string{NameOkta, NameForm} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				p, err := New(name)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Login(ctxT(t), tt.l)
				wantErr(t, err, creds.ClassConfig, []error{tt.target}, tt.text)
				noSecrets(t, err, "secret-q")
			})
		}
	}
	t.Run("unknown provider", func(t *testing.T) {
		_, err := New("saml2aws")
		wantErr(t, err, creds.ClassConfig, []error{ErrUnknownProvider}, `"saml2aws"`, "okta, form or kerberos")
	})
	t.Run("names", func(t *testing.T) {
		for _, n := range []string{"okta", "Form", " kerberos "} {
			if _, err := New(n); err != nil {
				t.Errorf("New(%q): %v", n, err)
			}
		}
	})
}

// shibIdP is a Shibboleth-IdP-like login in front of a samltest IdP: the unsolicited SSO
// URL redirects to a flow execution, whose first page is "Loading Session Information" (a
// form of hidden fields that a script submits); then the login form (j_username,
// j_password, a _eventId_proceed button that must be sent), then, for users with a code,
// a TOTP page (j_tokenNumber); then the SAMLResponse page.
type shibIdP struct {
	idp      *samltest.IdP
	users    map[string]string
	codes    map[string]string
	mu       sync.Mutex
	stage    map[string]string // session cookie -> "ls", "login", "mfa:<user>"
	failures int
}

var shibPages = template.Must(template.New("ls").Parse(`<!DOCTYPE html>
<html><head><title>Loading Session Information</title></head>
<body onload="doLoad()"><noscript><p><strong>Note:</strong> Since your browser does not support JavaScript, you must press the Continue button once to proceed.</p></noscript>
<form name="form1" action="/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1" method="post">
<input type="hidden" name="shib_idp_ls_exception.shib_idp_session_ss" value="" />
<input type="hidden" name="shib_idp_ls_success.shib_idp_session_ss" value="false" />
<input type="hidden" name="shib_idp_ls_supported" value="" />
<input name="_eventId_proceed" type="hidden" value="" />
<noscript><input type="submit" value="Continue" /></noscript>
</form></body></html>
{{define "login"}}<!DOCTYPE html>
<html><head><title>Web Login Service</title></head><body>
<form action="/idp/profile/SAML2/Unsolicited/SSO?execution=e1s2" method="post">
{{if .}}<section><p class="form-element form-error">{{.}}</p></section>{{end}}
<div class="form-element-wrapper"><label for="username">Username</label><input class="form-element form-field" id="username" name="j_username" type="text" value=""></div>
<div class="form-element-wrapper"><label for="password">Password</label><input class="form-element form-field" id="password" name="j_password" type="password" value=""></div>
<div class="form-element-wrapper"><input type="checkbox" name="donotcache" value="1" id="donotcache"><label for="donotcache">Don't Remember Login</label></div>
<div class="form-element-wrapper"><button class="form-element form-button" type="submit" name="_eventId_proceed">Login</button></div>
</form></body></html>{{end}}
{{define "mfa"}}<!DOCTYPE html>
<html><head><title>Web Login Service - Token</title></head><body>
<form action="/idp/profile/SAML2/Unsolicited/SSO?execution=e1s3" method="post">
{{if .}}<p class="form-element form-error">{{.}}</p>{{end}}
<label for="j_tokenNumber">Token code</label><input type="text" id="j_tokenNumber" name="j_tokenNumber" autocomplete="off" value="">
<button type="submit" name="_eventId_proceed">Verify</button>
</form></body></html>{{end}}`))

func (s *shibIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c, _ := r.Cookie("JSESSIONID")
	s.mu.Lock()
	defer s.mu.Unlock()
	stage := ""
	if c != nil {
		stage = s.stage[c.Value]
	}
	set := func(v string) { s.stage[c.Value] = v }
	exec := r.URL.Query().Get("execution")
	switch {
	case exec == "" && r.URL.Query().Get("providerId") == "urn:amazon:webservices":
		id := fmt.Sprint(time.Now().UnixNano())
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/idp"})
		s.stage[id] = "ls"
		http.Redirect(w, r, "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1", http.StatusFound)
	case stage == "":
		http.Error(w, "Stale Request", http.StatusBadRequest)
	case exec == "e1s1" && r.Method == "GET" && stage == "ls":
		_ = shibPages.Execute(w, nil)
	case exec == "e1s1" && r.Method == "POST" && stage == "ls":
		if _, ok := r.PostForm["_eventId_proceed"]; !ok && r.ParseForm() == nil && r.PostForm.Get("shib_idp_ls_success.shib_idp_session_ss") != "false" {
			http.Error(w, "bad local storage form", http.StatusBadRequest)
			return
		}
		set("login")
		http.Redirect(w, r, "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s2", http.StatusFound)
	case exec == "e1s2" && r.Method == "GET" && stage == "login":
		_ = shibPages.ExecuteTemplate(w, "login", "")
	case exec == "e1s2" && r.Method == "POST" && stage == "login":
		_ = r.ParseForm()
		if _, ok := r.PostForm["_eventId_proceed"]; !ok {
			http.Error(w, "no event", http.StatusBadRequest)
			return
		}
		user, pw := r.PostForm.Get("j_username"), r.PostForm.Get("j_password")
		if want, ok := s.users[user]; !ok || pw != want {
			s.failures++
			_ = shibPages.ExecuteTemplate(w, "login", "The password you entered was incorrect.")
			return
		}
		if _, ok := s.codes[user]; ok {
			set("mfa:" + user)
			http.Redirect(w, r, "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s3", http.StatusFound)
			return
		}
		s.idp.SSOPage(w, r, user)
	case exec == "e1s3" && r.Method == "GET" && strings.HasPrefix(stage, "mfa:"):
		_ = shibPages.ExecuteTemplate(w, "mfa", "")
	case exec == "e1s3" && r.Method == "POST" && strings.HasPrefix(stage, "mfa:"):
		_ = r.ParseForm()
		user := strings.TrimPrefix(stage, "mfa:")
		if r.PostForm.Get("j_tokenNumber") != s.codes[user] {
			s.failures++
			_ = shibPages.ExecuteTemplate(w, "mfa", "Invalid token code.")
			return
		}
		s.idp.SSOPage(w, r, user)
	default:
		http.Error(w, "unexpected "+r.Method+" "+exec+" in stage "+stage, http.StatusBadRequest)
	}
}

func (s *shibIdP) failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

func TestFormShibboleth(t *testing.T) {
	shib := &shibIdP{
		idp:   samltest.Start(t, samltest.Options{}),
		users: map[string]string{"alice": "pw-alice-1", "bob": "pw-bob-1"},
		codes: map[string]string{"bob": "123456"},
		stage: map[string]string{},
	}
	srv := serve(t, shib)
	loginURL := srv.URL + "/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices"
	tests := []struct {
		name     string
		user, pw string
		code     *answer
		targets  []error
		text     string
		failures int
	}{
		{name: "success", user: "alice", pw: "pw-alice-1"},
		{name: "wrong password", user: "alice", pw: "pw-wrong-1", targets: []error{ErrWrongPassword}, failures: 1,
			text: "the IdP at " + srv.URL + ` refused the password for alice: "The password you entered was incorrect." (not retried`},
		{name: "TOTP", user: "bob", pw: "pw-bob-1", code: &answer{value: "123 456"}},
		{name: "wrong TOTP", user: "bob", pw: "pw-bob-1", code: &answer{value: "654321"}, targets: []error{ErrWrongMFACode}, failures: 1,
			text: `refused the MFA code for bob: "Invalid token code." (not retried)`},
		{name: "TOTP and no MFACode", user: "bob", pw: "pw-bob-1", targets: []error{ErrMFARequired},
			text: `requires MFA for bob: it asks for a one-time code (field "j_tokenNumber") and none can be asked here: set awskeep_mfa_process`},
		{name: "MFACode fails", user: "bob", pw: "pw-bob-1", code: &answer{err: errors.New("mfa_process exited 1")}, targets: []error{},
			text: "cannot get the MFA code for bob: mfa_process exited 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := shib.failed()
			l := Login{URL: loginURL, Username: tt.user, Password: (&answer{value: tt.pw}).fn}
			if tt.code != nil {
				l.MFACode = tt.code.fn
			}
			v, err := Form{}.Login(ctxT(t), l)
			if tt.targets == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkResponse(t, v, tt.user)
			} else {
				class := creds.ClassIdP
				if tt.code != nil && tt.code.err != nil {
					class = creds.ClassPrompt
				}
				wantErr(t, err, class, tt.targets, tt.text)
				noSecrets(t, err, tt.pw, "654321")
			}
			if n := shib.failed() - before; n != tt.failures {
				t.Errorf("%d failures at the IdP, want %d", n, tt.failures)
			}
			if tt.code != nil && tt.code.calls.Load() != 1 {
				t.Errorf("MFACode called %d times", tt.code.calls.Load())
			}
		})
	}
}

// TestFormPages covers pages a form IdP may answer, each served by a small handler.
func TestFormPages(t *testing.T) {
	const password = "s3cret-pass"
	loginForm := `<html><head><title>Login</title></head><body><form method="post" action="/login"><input name="username"><input type="password" name="password"></form></body></html>`
	tests := []struct {
		name    string
		handler http.HandlerFunc
		targets []error
		class   creds.Class
		text    []string
		noPW    bool
	}{
		{
			name: "identifier first",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				switch {
				case r.Method == "GET":
					fmt.Fprint(w, `<form method="post" action="/id"><input type="email" name="identifier" autocomplete="username"><button>Next</button></form>`)
				case r.URL.Path == "/id" && r.PostForm.Get("identifier") == "alice":
					fmt.Fprint(w, `<form method="post" action="/pw"><input type="hidden" name="identifier" value="alice"><input type="password" name="credentials.passcode"><button>Verify</button></form>`)
				case r.URL.Path == "/pw" && r.PostForm.Get("identifier") == "alice" && r.PostForm.Get("credentials.passcode") == password:
					fmt.Fprint(w, `<form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="QUJD"></form>`)
				default:
					http.Error(w, "bad request", http.StatusBadRequest)
				}
			},
		},
		{
			name: "identifier refused",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<form method="post" action="/id"><div class="alert">Unknown user</div><input type="email" name="identifier" autocomplete="username"><button>Next</button></form>`)
			},
			targets: []error{ErrWrongPassword}, class: creds.ClassIdP, noPW: true,
			text: []string{`refused the username alice: "Unknown user"`},
		},
		{
			name: "error page echoes the password",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "GET" {
					fmt.Fprint(w, loginForm)
					return
				}
				_ = r.ParseForm()
				fmt.Fprintf(w, `<p class="error">Password %s is wrong for %s</p>%s`, template.HTMLEscapeString(r.PostForm.Get("password")), r.PostForm.Get("username"), loginForm)
			},
			targets: []error{ErrWrongPassword}, class: creds.ClassIdP,
			text: []string{`"Password [redacted] is wrong for alice"`},
		},
		{
			name: "server error after login",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "GET" {
					fmt.Fprint(w, loginForm)
					return
				}
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `<html><head><title>Internal error</title></head><body>oops</body></html>`)
			},
			targets: []error{ErrUnexpectedAnswer}, class: creds.ClassIdP,
			text: []string{"answered HTTP 500 Internal Server Error to POST ", `/login: "Internal error"`},
		},
		{
			name: "login page is an error",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "not found", http.StatusNotFound)
			},
			targets: []error{ErrUnexpectedAnswer}, class: creds.ClassIdP, noPW: true,
			text: []string{"answered HTTP 404 Not Found to GET http://127.0.0.1:"},
		},
		{
			name: "endless intermediate forms",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<html><head><title>Continue</title></head><body><form method="post" action="/again"><input type="hidden" name="s" value="1"></form></body></html>`)
			},
			targets: []error{ErrNoSAMLResponse}, class: creds.ClassIdP, noPW: true,
			text: []string{"/again (title \"Continue\"): gave up after 5 intermediate forms"},
		},
		{
			name: "page with nothing to do",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<html><head><title>Portal</title></head><body><div id="errorMessage">You have no AWS access.</div></body></html>`)
			},
			targets: []error{ErrNoSAMLResponse}, class: creds.ClassIdP, noPW: true,
			text: []string{`(title "Portal"): the page says "You have no AWS access."`},
		},
		{
			name: "redirect to plain http elsewhere",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://idp.example.com/login?session=secret-q", http.StatusFound)
			},
			targets: []error{ErrInsecureURL}, class: creds.ClassIdP, noPW: true,
			text: []string{"refusing http://idp.example.com/login from a redirect"},
		},
		{
			name: "form action to plain http elsewhere",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<form method="post" action="http://idp.example.com/login?x=secret-q"><input name="username"><input type="password" name="password"></form>`)
			},
			targets: []error{ErrInsecureURL}, class: creds.ClassIdP,
			text: []string{"refusing http://idp.example.com/login from a form's action"},
		},
		{
			name: "307 would resend the password to another origin",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "GET" {
					fmt.Fprint(w, loginForm)
					return
				}
				http.Redirect(w, r, "https://other.example.com/collect", http.StatusTemporaryRedirect)
			},
			targets: []error{ErrUnexpectedAnswer}, class: creds.ClassIdP,
			text: []string{"refusing to resend the form to https://other.example.com"},
		},
		{
			name: "redirect loop",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loop?secret-q", http.StatusFound)
			},
			targets: []error{ErrUnexpectedAnswer}, class: creds.ClassIdP, noPW: true,
			text: []string{"stopped after 10 redirects"},
		},
		{
			name: "SAMLResponse after entities and line breaks",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "GET" {
					fmt.Fprint(w, loginForm)
					return
				}
				fmt.Fprint(w, "<form method=post action=\"https://signin.aws.amazon.com/saml\"><input type=hidden name=SAMLResponse value=\"QU&#x4a;D&#xD;&#xA;REVG\"></form>")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.handler)
			pw := &answer{value: password}
			v, err := Form{}.Login(ctxT(t), Login{URL: srv.URL + "/start", Username: "alice", Password: pw.fn})
			if tt.targets == nil {
				if err != nil {
					t.Fatal(err)
				}
				if v != "QUJD" && v != "QUJDREVG" {
					t.Fatalf("SAMLResponse %q", v)
				}
				return
			}
			wantErr(t, err, tt.class, tt.targets, tt.text...)
			noSecrets(t, err, password, "secret-q")
			if n := pw.calls.Load(); (n == 0) != tt.noPW || n > 1 {
				t.Errorf("Password called %d times", n)
			}
		})
	}
}

func TestFormDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Form{}.Login(ctx, Login{URL: srv.URL + "/login", Username: "alice", Password: never(t, "Password")})
	wantErr(t, err, creds.ClassIdP, []error{context.DeadlineExceeded}, "no answer from the IdP at "+srv.URL+" in time")
}
