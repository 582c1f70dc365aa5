package samlidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/samltest"
)

// notices records what Okta.Notify showed.
type notices struct {
	mu    sync.Mutex
	lines []string
}

func (n *notices) notify(m string) {
	n.mu.Lock()
	n.lines = append(n.lines, m)
	n.mu.Unlock()
}

func (n *notices) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.lines)
}

// testOkta is the Okta provider with a short push poll interval and its notices recorded.
func testOkta() (Okta, *notices) {
	n := &notices{}
	return Okta{Notify: n.notify, PollInterval: 5 * time.Millisecond}, n
}

func TestOktaLogin(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users: map[string]string{"alice": "pw-alice-9", "bob": "pw-bob-9", "carol": "pw-carol-9",
			"dave": "pw-dave-9", "erin": "pw-erin-9", "fay": "pw-fay-9", "gus": "pw-gus-9"},
		Locked: []string{"carol"},
		TOTP:   map[string]string{"bob": "246810", "gus": "975310"},
		Push: map[string]samltest.PushAnswer{"dave": samltest.PushApprove, "erin": samltest.PushReject,
			"fay": samltest.PushIgnore, "gus": samltest.PushApprove},
		PushWaits: 3,
	})
	tests := []struct {
		name      string
		url       string
		user, pw  string
		code      *answer
		targets   []error
		text      string
		failures  int
		mfaCalls  int32
		passcodes int // TOTP codes Okta checked
		pushes    int // pushes Okta sent
	}{
		{name: "success", user: "alice", pw: "pw-alice-9"},
		{name: "wrong password", user: "alice", pw: "pw-wrong-9", targets: []error{ErrWrongPassword}, failures: 1,
			text: "Okta refused the password for alice (not retried: Okta locks accounts after repeated failures)"},
		{name: "locked", user: "carol", pw: "pw-carol-9", targets: []error{ErrLockedOut},
			text: "Okta has locked the account carol: ask your Okta administrator to unlock it, or unlock it yourself in a browser at " + idp.URL},
		{name: "MFA", user: "bob", pw: "pw-bob-9", code: &answer{value: "246810"}, mfaCalls: 1, passcodes: 1},
		{name: "MFA wrong code", user: "bob", pw: "pw-bob-9", code: &answer{value: "135790"}, mfaCalls: 1, failures: 1, passcodes: 1,
			targets: []error{ErrWrongMFACode}, text: "Okta refused the MFA code for bob (not retried: check the authenticator's clock"},
		{name: "push approved", user: "dave", pw: "pw-dave-9", code: &answer{value: "135790"}, pushes: 1},
		{name: "push rejected", user: "erin", pw: "pw-erin-9", code: &answer{value: "135790"}, pushes: 1, targets: []error{ErrMFARequired},
			text: "Okta requires MFA for erin: the Okta Verify push was rejected on the phone; no new push is sent: run awskeep again to get one"},
		{name: "push not answered", user: "fay", pw: "pw-fay-9", pushes: 1, targets: []error{ErrMFARequired},
			text: "Okta requires MFA for fay: the Okta Verify push was not answered in time; no new push is sent"},
		{name: "TOTP before push", user: "gus", pw: "pw-gus-9", code: &answer{value: "975 310"}, mfaCalls: 1, passcodes: 1},
		{name: "MFA without MFACode", user: "bob", pw: "pw-bob-9", targets: []error{ErrMFARequired},
			text: "Okta requires MFA for bob: it asks for a TOTP code and none can be asked here: set awskeep_mfa_process or run awskeep on a terminal"},
		{name: "page without SAMLResponse", url: idp.BrokenURL, user: "alice", pw: "pw-alice-9", targets: []error{ErrNoSAMLResponse},
			text: "no SAMLResponse in the page at " + idp.BrokenURL + " (title \"Access denied\")"},
		{name: "unreachable", url: closedURL(t) + "/app/amazon_aws/x/sso/saml", user: "alice", pw: "pw-alice-9", targets: []error{ErrUnreachable},
			text: "cannot reach the IdP at http://127.0.0.1:"},
		{name: "not Okta", url: idp.URL + "/nowhere", user: "alice", pw: "pw-alice-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			if u == "" {
				u = idp.OktaAppURL
			}
			before := idp.FailedLogins(tt.user)
			passcodes, pushes := idp.PasscodesChecked(tt.user), idp.PushesSent(tt.user)
			pw := &answer{value: tt.pw}
			l := Login{URL: u, Username: tt.user, Password: pw.fn}
			if tt.code != nil {
				l.MFACode = tt.code.fn
			}
			okta, shown := testOkta()
			v, err := okta.Login(ctxT(t), l)
			switch {
			case tt.name == "not Okta":
				// The app URL is on Okta's origin: the API answers; the page is a 404.
				wantErr(t, err, creds.ClassIdP, []error{ErrUnexpectedAnswer}, "Okta answered HTTP 404 Not Found to GET "+idp.URL+"/nowhere")
				noSecrets(t, err, tt.pw, "sessionToken", "?")
			case tt.targets == nil:
				if err != nil {
					t.Fatal(err)
				}
				checkResponse(t, v, tt.user)
			default:
				wantErr(t, err, creds.ClassIdP, tt.targets, tt.text)
				noSecrets(t, err, tt.pw, "135790", "sessionToken", "stateToken")
			}
			if n := idp.FailedLogins(tt.user) - before; n != tt.failures {
				t.Errorf("%d failed logins at Okta, want %d", n, tt.failures)
			}
			if pw.calls.Load() != 1 {
				t.Errorf("Password called %d times", pw.calls.Load())
			}
			if tt.code != nil && tt.code.calls.Load() != tt.mfaCalls {
				t.Errorf("MFACode called %d times, want %d", tt.code.calls.Load(), tt.mfaCalls)
			}
			// A code is sent once and a push sent once, whatever the answer.
			if n := idp.PasscodesChecked(tt.user) - passcodes; n != tt.passcodes {
				t.Errorf("Okta checked %d passcodes, want %d", n, tt.passcodes)
			}
			if n := idp.PushesSent(tt.user) - pushes; n != tt.pushes {
				t.Errorf("Okta sent %d pushes, want %d", n, tt.pushes)
			}
			// One notice per push, naming the user and the host, never a secret.
			if n := shown.count(); n != tt.pushes {
				t.Errorf("%d notices shown, want %d: %q", n, tt.pushes, shown.lines)
			}
			for _, line := range shown.lines {
				if want := "approve the push on your phone: Okta Verify asks to sign in " + tt.user + " at 127.0.0.1:"; !strings.HasPrefix(line, want) {
					t.Errorf("notice %q, want it to start %q", line, want)
				}
			}
		})
	}
}

// TestOktaPushWait: a push nobody answers is waited for until ctx ends, polling at the
// interval, and is never sent again.
func TestOktaPushWait(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{
		Users:     map[string]string{"hal": "pw-hal-9"},
		Push:      map[string]samltest.PushAnswer{"hal": samltest.PushApprove},
		PushWaits: 1 << 20,
	})
	for _, tc := range []struct {
		name   string
		cancel bool
		text   string
	}{
		{name: "deadline", text: "the Okta Verify push for hal was not approved in time (raise --timeout to wait longer): context deadline exceeded"},
		{name: "cancelled", cancel: true, text: "waiting for the Okta Verify push for hal: context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pushes := idp.PushesSent("hal")
			// The deadline starts when the push is sent, not before the password is
			// checked, so a slow machine cannot end the wait before it begins.
			ctx := newPushDeadline(ctxT(t))
			okta, shown := testOkta()
			okta.PollInterval = 20 * time.Millisecond
			notify := okta.Notify
			okta.Notify = func(line string) {
				notify(line)
				if tc.cancel {
					ctx.end(context.Canceled)
					return
				}
				time.AfterFunc(300*time.Millisecond, func() { ctx.end(context.DeadlineExceeded) })
			}
			start := time.Now()
			_, err := okta.Login(ctx, Login{URL: idp.OktaAppURL, Username: "hal", Password: (&answer{value: "pw-hal-9"}).fn, MFACode: never(t, "MFACode")})
			took := time.Since(start)
			wantErr(t, err, creds.ClassIdP, nil, tc.text)
			if took > 5*time.Second {
				t.Errorf("the wait took %v after ctx ended", took)
			}
			if n := idp.PushesSent("hal") - pushes; n != 1 {
				t.Errorf("Okta sent %d pushes, want 1", n)
			}
			if !tc.cancel && shown.count() != 1 {
				t.Errorf("%d notices, want 1", shown.count())
			}
		})
	}
}

// pushDeadline is a context that ends, with the error given, when the test says so: a
// deadline armed by the push notice rather than at the start of the login.
type pushDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
}

func newPushDeadline(parent context.Context) *pushDeadline {
	return &pushDeadline{Context: parent, done: make(chan struct{})}
}

func (c *pushDeadline) end(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	})
}

func (c *pushDeadline) Done() <-chan struct{} { return c.done }

func (c *pushDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// fakeOkta answers /api/v1/authn with the transactions of its script, in order, and
// records the requests it got, so tests can check what awskeep sent where.
type fakeOkta struct {
	t      *testing.T
	script []func(w http.ResponseWriter, r *http.Request, body map[string]any)
	mu     sync.Mutex
	seen   []string // "POST /api/v1/authn", ...
	bodies []map[string]any
}

func (f *fakeOkta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.seen = append(f.seen, r.Method+" "+r.URL.Path)
	f.bodies = append(f.bodies, body)
	if r.Method == "GET" && r.URL.Path == "/app/aws/sso/saml" {
		if r.URL.Query().Get("sessionToken") != "sess-TOKEN-1" {
			http.Error(w, "bad session token", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `<form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="U0FNTA=="></form>`)
		return
	}
	if len(f.script) == 0 {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	step := f.script[0]
	f.script = f.script[1:]
	step(w, r, body)
}

func jsonAnswer(status int, v string) func(w http.ResponseWriter, r *http.Request, body map[string]any) {
	return func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, strings.ReplaceAll(v, "ORIGIN", "http://"+r.Host))
	}
}

const oktaSuccess = `{"status":"SUCCESS","sessionToken":"sess-TOKEN-1"}`

// oktaPushRequired is MFA_REQUIRED with one factor, an Okta Verify push.
const oktaPushRequired = `{"status":"MFA_REQUIRED","stateToken":"state-TOKEN-1","_embedded":{"factors":[
	{"id":"p1","factorType":"push","provider":"OKTA","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/p1/verify"}}}]}}`

// pushAnswer is an MFA_CHALLENGE answer of "Verify Push Factor".
func pushAnswer(state, result, next, href string) string {
	return fmt.Sprintf(`{"status":"MFA_CHALLENGE","stateToken":%q,"factorResult":%q,"_embedded":{"factor":{"id":"p1","factorType":"push"}},
		"_links":{"next":{"name":%q,"href":%q,"hints":{"allow":["POST"]}},"resend":[{"name":"push","href":"ORIGIN/api/v1/authn/factors/p1/verify/resend"}]}}`,
		state, result, next, href)
}

func TestOktaTransactions(t *testing.T) {
	const pw = "pw-fake-1"
	tests := []struct {
		name    string
		script  []func(w http.ResponseWriter, r *http.Request, body map[string]any)
		code    *answer
		targets []error
		text    []string
		seen    []string
	}{
		{
			name: "password warning skipped",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, `{"status":"PASSWORD_WARN","stateToken":"state-TOKEN-1","_links":{"skip":{"href":"ORIGIN/api/v1/authn/skip"}}}`),
				func(w http.ResponseWriter, r *http.Request, body map[string]any) {
					if body["stateToken"] != "state-TOKEN-1" {
						t.Errorf("skip got %v", body)
					}
					jsonAnswer(200, oktaSuccess)(w, r, body)
				},
			},
			seen: []string{"POST /api/v1/authn", "POST /api/v1/authn/skip", "GET /app/aws/sso/saml"},
		},
		{
			name: "TOTP chosen among factors, code sent with the state token",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, `{"status":"MFA_REQUIRED","stateToken":"state-TOKEN-1","_embedded":{"factors":[
					{"id":"p1","factorType":"push","provider":"OKTA","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/p1/verify"}}},
					{"id":"t1","factorType":"token:software:totp","provider":"OKTA","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/t1/verify"}}}]}}`),
				func(w http.ResponseWriter, r *http.Request, body map[string]any) {
					if body["stateToken"] != "state-TOKEN-1" || body["passCode"] != "112233" {
						t.Errorf("verify got %v", body)
					}
					jsonAnswer(200, oktaSuccess)(w, r, body)
				},
			},
			code: &answer{value: "112 233"},
			seen: []string{"POST /api/v1/authn", "POST /api/v1/authn/factors/t1/verify", "GET /app/aws/sso/saml"},
		},
		{
			name: "no factor awskeep supports",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, `{"status":"MFA_REQUIRED","stateToken":"state-TOKEN-1","_embedded":{"factors":[
					{"id":"s1","factorType":"sms","provider":"OKTA","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/s1/verify"}}},
					{"id":"p2","factorType":"push","provider":"OKTA"},
					{"id":"w1","factorType":"webauthn","provider":"FIDO","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/w1/verify"}}}]}}`),
			},
			code:    &answer{value: "112233"},
			targets: []error{ErrMFARequired},
			text:    []string{"Okta requires MFA for alice: the account's factors are sms, push, webauthn; awskeep supports TOTP (token:software:totp, token:totp) and Okta Verify push: enroll an authenticator app in Okta"},
			seen:    []string{"POST /api/v1/authn"},
		},
		{
			name: "push: polls the next link with the newest state token",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				func(w http.ResponseWriter, r *http.Request, body map[string]any) {
					if body["stateToken"] != "state-TOKEN-1" || body["passCode"] != nil {
						t.Errorf("push verify got %v", body)
					}
					jsonAnswer(200, pushAnswer("state-TOKEN-2", "WAITING", "poll", "ORIGIN/api/v1/authn/factors/p1/verify/poll"))(w, r, body)
				},
				func(w http.ResponseWriter, r *http.Request, body map[string]any) {
					if body["stateToken"] != "state-TOKEN-2" {
						t.Errorf("poll got %v", body)
					}
					jsonAnswer(200, oktaSuccess)(w, r, body)
				},
			},
			code: &answer{value: "112233"},
			seen: []string{"POST /api/v1/authn", "POST /api/v1/authn/factors/p1/verify", "POST /api/v1/authn/factors/p1/verify/poll", "GET /app/aws/sso/saml"},
		},
		{
			name: "push: poll link on another host",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				jsonAnswer(200, pushAnswer("state-TOKEN-1", "WAITING", "poll", "https://evil.example.com/poll?stateToken=state-TOKEN-1")),
			},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{`its link "https://evil.example.com/poll" is not on http://127.0.0.1:`, "refusing to follow it"},
			seen:    []string{"POST /api/v1/authn", "POST /api/v1/authn/factors/p1/verify"},
		},
		{
			name: "push: WAITING without a link to poll",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				jsonAnswer(200, `{"status":"MFA_CHALLENGE","factorResult":"WAITING","stateToken":"state-TOKEN-1","_links":{}}`),
			},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{"Okta answered MFA_CHALLENGE WAITING to POST http://127.0.0.1:", "/api/v1/authn/factors/p1/verify: the answer has no link to poll"},
		},
		{
			name: "push: a result awskeep does not know",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				jsonAnswer(200, pushAnswer("state-TOKEN-1", "CANCELLED", "verify", "ORIGIN/api/v1/authn/factors/p1/verify")),
			},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{"Okta answered MFA_CHALLENGE CANCELLED to POST", "awskeep cannot go on from this push result"},
		},
		{
			name: "push: another factor asked after it",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				jsonAnswer(200, oktaPushRequired),
			},
			targets: []error{ErrMFARequired},
			text:    []string{"Okta requires MFA for alice: it asks for another factor after the first"},
		},
		{
			name: "push: rejected",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, oktaPushRequired),
				jsonAnswer(200, pushAnswer("state-TOKEN-1", "WAITING", "poll", "ORIGIN/api/v1/authn/factors/p1/verify")),
				jsonAnswer(200, pushAnswer("state-TOKEN-1", "REJECTED", "verify", "ORIGIN/api/v1/authn/factors/p1/verify")),
			},
			targets: []error{ErrMFARequired},
			text:    []string{"the Okta Verify push was rejected on the phone"},
		},
		{
			name: "verify link on another host",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, `{"status":"MFA_REQUIRED","stateToken":"state-TOKEN-1","_embedded":{"factors":[
					{"id":"t1","factorType":"token:totp","provider":"RSA","_links":{"verify":{"href":"https://evil.example.com/verify?stateToken=state-TOKEN-1"}}}]}}`),
			},
			code:    &answer{value: "112233"},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{`its link "https://evil.example.com/verify" is not on http://127.0.0.1:`, "refusing to follow it"},
			seen:    []string{"POST /api/v1/authn"},
		},
		{
			name:    "password expired",
			script:  []func(http.ResponseWriter, *http.Request, map[string]any){jsonAnswer(200, `{"status":"PASSWORD_EXPIRED","stateToken":"state-TOKEN-1"}`)},
			targets: []error{ErrPasswordExpired},
			text:    []string{"Okta says the password for alice has expired: change it in a browser at http://127.0.0.1:"},
		},
		{
			name:    "enrollment needed",
			script:  []func(http.ResponseWriter, *http.Request, map[string]any){jsonAnswer(200, `{"status":"MFA_ENROLL","stateToken":"state-TOKEN-1"}`)},
			targets: []error{ErrMFARequired},
			text:    []string{"Okta requires MFA for alice: it wants a factor enrolled first"},
		},
		{
			name:    "unknown status",
			script:  []func(http.ResponseWriter, *http.Request, map[string]any){jsonAnswer(200, `{"status":"RECOVERY","stateToken":"state-TOKEN-1","recoveryToken":"x"}`)},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{"Okta answered RECOVERY to POST http://127.0.0.1:", "/api/v1/authn: awskeep cannot go on from this transaction status"},
		},
		{
			name: "rate limited",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(429, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[]}`)},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{`Okta answered HTTP 429 E0000047 to POST http://127.0.0.1:`, `/api/v1/authn: "API call exceeded rate limit due to too many requests."`},
		},
		{
			name: "MFA lockout",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(200, `{"status":"MFA_REQUIRED","stateToken":"state-TOKEN-1","_embedded":{"factors":[
					{"id":"t1","factorType":"token:software:totp","provider":"GOOGLE","_links":{"verify":{"href":"ORIGIN/api/v1/authn/factors/t1/verify"}}}]}}`),
				jsonAnswer(403, `{"errorCode":"E0000069","errorSummary":"User Locked"}`),
			},
			code:    &answer{value: "112233"},
			targets: []error{ErrLockedOut},
			text:    []string{`Okta has locked the account alice: "User Locked": ask your Okta administrator to unlock it`},
		},
		{
			name: "error echoing secrets is scrubbed",
			script: []func(http.ResponseWriter, *http.Request, map[string]any){
				jsonAnswer(400, `{"errorCode":"E0000001","errorSummary":"Api validation failed: password pw-fake-1","errorCauses":[{"errorSummary":"password: pw-fake-1 is too weak"}]}`)},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{`E0000001`, `"Api validation failed: password [redacted]; password: [redacted] is too weak"`},
		},
		{
			name:    "not JSON",
			script:  []func(http.ResponseWriter, *http.Request, map[string]any){jsonAnswer(200, `<html>login</html>`)},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{"Okta answered unexpectedly to POST", "not an Okta Authentication API answer"},
		},
		{
			name:    "success without session token",
			script:  []func(http.ResponseWriter, *http.Request, map[string]any){jsonAnswer(200, `{"status":"SUCCESS"}`)},
			targets: []error{ErrUnexpectedAnswer},
			text:    []string{"the answer has no sessionToken"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeOkta{t: t, script: tt.script}
			srv := serve(t, fake)
			l := Login{URL: srv.URL + "/app/aws/sso/saml", Username: "alice", Password: (&answer{value: pw}).fn}
			if tt.code != nil {
				l.MFACode = tt.code.fn
			}
			okta, _ := testOkta()
			v, err := okta.Login(ctxT(t), l)
			if tt.targets == nil {
				if err != nil {
					t.Fatal(err)
				}
				if v != "U0FNTA==" {
					t.Fatalf("SAMLResponse %q", v)
				}
			} else {
				wantErr(t, err, creds.ClassIdP, tt.targets, tt.text...)
				noSecrets(t, err, pw, "state-TOKEN-1", "state-TOKEN-2", "sess-TOKEN-1", "112233")
			}
			if tt.seen != nil && strings.Join(fake.seen, ", ") != strings.Join(tt.seen, ", ") {
				t.Errorf("requests %v, want %v", fake.seen, tt.seen)
			}
			if len(fake.script) != 0 {
				t.Errorf("%d scripted answers unused", len(fake.script))
			}
			first := fake.bodies[0]
			if first["username"] != "alice" || first["password"] != pw {
				t.Errorf("authn body %v", first)
			}
		})
	}
}

func TestOktaSessionTokenNotInErrors(t *testing.T) {
	// The app URL answers 500 after SUCCESS: the error names the URL without the
	// ?sessionToken= the request carried.
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/authn" {
			jsonAnswer(200, oktaSuccess)(w, r, nil)
			return
		}
		http.Error(w, "boom sess-TOKEN-1", http.StatusInternalServerError)
	}))
	_, err := Okta{}.Login(ctxT(t), Login{URL: srv.URL + "/home/amazon_aws/0oa1/272?fromHome=true", Username: "alice", Password: (&answer{value: "pw"}).fn})
	wantErr(t, err, creds.ClassIdP, []error{ErrUnexpectedAnswer}, "Okta answered HTTP 500 Internal Server Error to GET "+srv.URL+"/home/amazon_aws/0oa1/272")
	noSecrets(t, err, "sess-TOKEN-1", "fromHome")
	var ae *AnswerError
	if !errors.As(err, &ae) || ae.Status != 500 {
		t.Fatalf("not an *AnswerError with status 500: %#v", err)
	}
}
