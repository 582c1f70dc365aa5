package samlidp

import (
	"net/url"
	"strings"
	"testing"
)

func TestExtractSAMLResponse(t *testing.T) {
	tests := []struct {
		name, page, want string
		ok               bool
	}{
		{"post binding form", `<form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="PHNhbWw+"/><input type="hidden" name="RelayState" value=""/></form>`, "PHNhbWw+", true},
		{"entities decoded", `<form><input type=hidden name=SAMLResponse value="PHNh&#x62;WwrPQ&#61;&#61;"></form>`, "PHNhbWwrPQ==", true},
		{"wrapped lines (ADFS)", "<form><input name=\"SAMLResponse\" value=\"PHNh&#xD;&#xA;bWw+\n  PQ==\"></form>", "PHNhbWw+PQ==", true},
		{"name case", `<input name="samlresponse" value="QUJD">`, "QUJD", true},
		{"outside any form", `<body><div><input name="SAMLResponse" value="QUJD"></div></body>`, "QUJD", true},
		{"textarea", "<form><textarea name=\"SAMLResponse\">\nQUJD\nREVG</textarea></form>", "QUJDREVG", true},
		{"empty first, value later", `<input name="SAMLResponse" value=""><input name="SAMLResponse" value="QUJD">`, "QUJD", true},
		{"only RelayState", `<form><input name="RelayState" value="x"></form>`, "", false},
		{"in a comment", `<!-- <input name="SAMLResponse" value="QUJD"> -->`, "", false},
		{"in a script", `<script>document.write('<input name="SAMLResponse" value="QUJD">')</script>`, "", false},
		{"blank value", `<input name="SAMLResponse" value="  ">`, "", false},
		{"not html", `{"status":"SUCCESS"}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := extractSAMLResponse(parseHTML([]byte(tt.page)))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("extractSAMLResponse = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFindLoginForm(t *testing.T) {
	tests := []struct {
		name       string
		page       string
		user, pw   string // field names; "" = none
		wantFields string // the submitted body with username "alice" and password "pw"
	}{
		{
			name: "ADFS forms authentication",
			page: `<form method="post" id="loginForm" autocomplete="off" novalidate="novalidate" action="/adfs/ls/?client-request-id=1&amp;RedirectToIdentityProvider=AD+AUTHORITY">
<input id="userNameInput" name="UserName" type="email" value="" tabindex="1" class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/>
<input id="passwordInput" name="Password" type="password" tabindex="2" class="text fullWidth" placeholder="Password" autocomplete="off"/>
<input id="kmsiInput" type="checkbox" name="Kmsi" value="true" checked="checked"/>
<input id="optionForms" type="hidden" name="AuthMethod" value="FormsAuthentication"/>
<span id="submitButton" class="submit" tabindex="4" role="button" onclick="return Login.submitLoginRequest();">Sign in</span>
</form>`,
			user: "UserName", pw: "Password",
			wantFields: "UserName=alice&Password=pw&Kmsi=true&AuthMethod=FormsAuthentication",
		},
		{
			name: "Shibboleth",
			page: `<form action="/idp/profile/SAML2/Unsolicited/SSO?execution=e1s2" method="post">
<input type="hidden" name="csrf_token" value="_abc"/>
<div class="form-element-wrapper"><label for="username">Username</label><input class="form-element form-field" id="username" name="j_username" type="text" value=""></div>
<div class="form-element-wrapper"><label for="password">Password</label><input class="form-element form-field" id="password" name="j_password" type="password" value=""></div>
<div class="form-element-wrapper"><input type="checkbox" name="donotcache" value="1" id="donotcache"></div>
<div class="form-element-wrapper"><button class="form-element form-button" type="submit" name="_eventId_proceed">Login</button></div>
</form>`,
			user: "j_username", pw: "j_password",
			wantFields: "csrf_token=_abc&j_username=alice&j_password=pw&_eventId_proceed=",
		},
		{
			name: "Keycloak",
			page: `<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="https://kc/realms/r/login-actions/authenticate?session_code=x&amp;tab_id=y" method="post">
<input tabindex="1" id="username" class="pf-c-form-control" name="username" value="" type="text" autofocus autocomplete="off"/>
<input tabindex="2" id="password" class="pf-c-form-control" name="password" type="password" autocomplete="off"/>
<input type="hidden" id="id-hidden-input" name="credentialId"/>
<input tabindex="4" class="pf-c-button" name="login" id="kc-login" type="submit" value="Sign In"/>
</form>`,
			user: "username", pw: "password",
			wantFields: "username=alice&password=pw&credentialId=&login=Sign+In",
		},
		{
			name: "Microsoft loginfmt and passwd",
			page: `<form name="f1" method="post" action="/common/login"><input type="email" name="loginfmt" id="i0116"><input name="passwd" type="password" id="i0118"><input type="hidden" name="ctx" value="c"></form>`,
			user: "loginfmt", pw: "passwd",
			wantFields: "loginfmt=alice&passwd=pw&ctx=c",
		},
		{
			name: "ASP.NET qualified names",
			page: `<form method="post" action="x"><input name="ctl00$Main$UsernameTextBox" type="text"><input name="ctl00$Main$PasswordTextBox" type="password"><input type="submit" name="ctl00$Main$SubmitButton" value="Sign In"></form>`,
			user: "ctl00$Main$UsernameTextBox", pw: "ctl00$Main$PasswordTextBox",
			wantFields: "ctl00%24Main%24UsernameTextBox=alice&ctl00%24Main%24PasswordTextBox=pw&ctl00%24Main%24SubmitButton=Sign+In",
		},
		{
			name: "search form first, login form second",
			page: `<form action="/search"><input type="text" name="q"></form><form method="post"><input type="text" name="login"><input type="password" name="pass"></form>`,
			user: "login", pw: "pass",
			wantFields: "login=alice&pass=pw",
		},
		{
			name: "no hint: the text field before the password",
			page: `<form method="post"><input type="text" name="organisation" value="acme"><input type="text" name="f1"><input type="password" name="f2"><input type="text" name="f3"></form>`,
			user: "f1", pw: "f2",
			wantFields: "organisation=acme&f1=alice&f2=pw&f3=",
		},
		{
			name: "autocomplete username beats position",
			page: `<form method="post"><input name="a" autocomplete="username"><input name="b"><input type="password" name="c"></form>`,
			user: "a", pw: "c",
			wantFields: "a=alice&b=&c=pw",
		},
		{
			name: "username only in a hidden field",
			page: `<form method="post"><input type="hidden" name="username" value="bob"><input type="password" name="password"></form>`,
			user: "", pw: "password",
			wantFields: "username=bob&password=pw",
		},
		{
			name: "form inside a table (foster parenting)",
			page: `<table><form method="post" action="/login"><tr><td><input name="user"></td></tr><tr><td><input type="password" name="pw"></td></tr></form></table>`,
			user: "user", pw: "pw",
			wantFields: "user=alice&pw=pw",
		},
		{
			name: "fields outside the form by form= attribute",
			page: `<form id="lf" method="post"></form><input form="lf" name="username"><input form="lf" type="password" name="password"><input form="other" name="x" value="y">`,
			user: "username", pw: "password",
			wantFields: "username=alice&password=pw",
		},
		{
			name: "disabled fieldset and fields are not submitted",
			page: `<form method="post"><fieldset disabled><input type="password" name="old"></fieldset><input name="email" type="email"><input type="password" name="password"><input name="x" value="1" disabled><select name="lang"><option value="de">Deutsch<option value="en" selected>English</select><input type=radio name=r value=a><input type=radio name=r value=b checked></form>`,
			user: "email", pw: "password",
			wantFields: "email=alice&password=pw&lang=en&r=b",
		},
		{
			name: "no login form",
			page: `<form><input name="q"></form>`,
		},
		{
			name: "password without name cannot be submitted",
			page: `<form><input name="user"><input type="password"></form>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, user, pw := findLoginForm(parseForms(parseHTML([]byte(tt.page))))
			if tt.pw == "" {
				if f != nil {
					t.Fatalf("found a login form with password field %q", pw.name)
				}
				return
			}
			if f == nil {
				t.Fatal("no login form found")
			}
			if pw.name != tt.pw {
				t.Errorf("password field %q, want %q", pw.name, tt.pw)
			}
			gotUser := ""
			if user != nil {
				gotUser = user.name
			}
			if gotUser != tt.user {
				t.Errorf("username field %q, want %q", gotUser, tt.user)
			}
			fill := map[*control]string{pw: "pw"}
			if user != nil {
				fill[user] = "alice"
			}
			if got := urlencode(f.entries(fill)); got != tt.wantFields {
				t.Errorf("submitted\n %s\nwant\n %s", got, tt.wantFields)
			}
		})
	}
}

func TestFormSubmit(t *testing.T) {
	page, _ := url.Parse("https://idp.example.com/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices#frag")
	tests := []struct {
		name, form        string
		method, url, body string
		contentTypePrefix string
	}{
		{"no action posts to the page, query kept", `<form method="post"><input name="a" value="1"></form>`,
			"POST", "https://idp.example.com/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices", "a=1", "application/x-www-form-urlencoded"},
		{"relative action", `<form method="POST" action="../login?x=1"><input name="a" value="é &"></form>`,
			"POST", "https://idp.example.com/adfs/login?x=1", "a=%C3%A9+%26", "application/x-www-form-urlencoded"},
		{"GET replaces the query", `<form action="/next?old=1"><input name="a" value="b c"></form>`,
			"GET", "https://idp.example.com/next?a=b+c", "", ""},
		{"multipart", `<form method="post" enctype="multipart/form-data" action="/m"><input name="a" value="1"></form>`,
			"POST", "https://idp.example.com/m", "", "multipart/form-data; boundary="},
		{"image submitter", `<form method="post" action="/i"><input type="image" name="go" src="x.png"><input type="submit" name="s" value="S"></form>`,
			"POST", "https://idp.example.com/i", "go.x=0&go.y=0", "application/x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forms := parseForms(parseHTML([]byte(tt.form)))
			if len(forms) != 1 {
				t.Fatalf("%d forms", len(forms))
			}
			sub, err := forms[0].submit(page, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sub.method != tt.method || sub.url.String() != tt.url {
				t.Errorf("%s %s, want %s %s", sub.method, sub.url, tt.method, tt.url)
			}
			if tt.body != "" && sub.body != tt.body {
				t.Errorf("body %q, want %q", sub.body, tt.body)
			}
			if !strings.HasPrefix(sub.contentType, tt.contentTypePrefix) || (tt.contentTypePrefix == "" && sub.contentType != "") {
				t.Errorf("content type %q, want %q...", sub.contentType, tt.contentTypePrefix)
			}
			if strings.HasPrefix(tt.contentTypePrefix, "multipart") && !strings.Contains(sub.body, "name=\"a\"\r\n\r\n1\r\n") {
				t.Errorf("multipart body %q lacks the field", sub.body)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"ADFS", `<div id="error" class="fullWidth"><span id="errorText" for="">Incorrect user ID or password. Type the correct user ID and password, and try again.</span></div>`,
			"Incorrect user ID or password. Type the correct user ID and password, and try again."},
		{"Shibboleth", `<section><p class="form-element form-error">The password you entered was incorrect.</p></section>`, "The password you entered was incorrect."},
		{"role alert", "<p role=alert>\n  Wrong\n  password  </p>", "Wrong password"},
		{"hidden template skipped", `<div class="error" style="display: none">Please enter a password</div><div class="alert alert-danger">Invalid credentials</div>`, "Invalid credentials"},
		{"hidden attribute skipped", `<p class="error" hidden>x</p>`, ""},
		{"script text skipped", `<div class="error"><script>var e = 1;</script>Bad</div>`, "Bad"},
		{"nothing", `<p>Welcome</p>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorText(parseHTML([]byte(tt.page))); got != tt.want {
				t.Fatalf("errorText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCodeAndIdentifierForms(t *testing.T) {
	forms := parseForms(parseHTML([]byte(`<form method="post"><input type="text" name="j_tokenNumber" autocomplete="off"><button type="submit" name="_eventId_proceed">Go</button></form>`)))
	if f, c := findCodeForm(forms); f == nil || c.name != "j_tokenNumber" {
		t.Fatalf("code form not found")
	}
	if f, _ := findIdentifierForm(forms); f != nil {
		t.Fatal("a code form taken for an identifier form")
	}
	forms = parseForms(parseHTML([]byte(`<form method="post"><input type="email" name="identifier"><button>Next</button></form>`)))
	if f, c := findIdentifierForm(forms); f == nil || c.name != "identifier" {
		t.Fatal("identifier form not found")
	}
	if f := findAutoSubmitForm(forms); f != nil {
		t.Fatal("a form with an empty text field taken for an auto-submit form")
	}
	forms = parseForms(parseHTML([]byte(`<form action="/lang"><select name="l"><option>en</select></form><form method="post" action="/next"><input type="hidden" name="shib_idp_ls_supported" value=""><input type="hidden" name="_eventId_proceed" value=""></form>`)))
	if f := findAutoSubmitForm(forms); f == nil || f.action != "/next" {
		t.Fatal("the form with hidden fields should come first")
	}
}

func TestSecureURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://idp.example.com/x":  true,
		"http://127.0.0.1:8080/x":    true,
		"http://127.1.2.3/":          true,
		"http://[::1]:80/":           true,
		"http://localhost:1234/":     true,
		"http://idp.example.com/":    false,
		"http://10.0.0.1/":           false,
		"http://localhost.evil.com/": false,
		"ftp://idp.example.com/":     false,
		"https:///nohost":            false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := secureURL(u); got != want {
			t.Errorf("secureURL(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@idp.example.com/app/x?sessionToken=SECRET#frag")
	if got := redactURL(u); got != "https://idp.example.com/app/x" {
		t.Fatalf("redactURL = %q", got)
	}
	if got := redactURLString("https://user:pw@idp.example.com/%zz?sessionToken=SECRET"); got != "https://idp.example.com/%zz" {
		t.Fatalf("redactURLString = %q", got)
	}
}
