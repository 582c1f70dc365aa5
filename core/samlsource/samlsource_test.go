package samlsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/prompt"
	"github.com/awskeep/awskeep/core/samlassert"
	"github.com/awskeep/awskeep/core/samltest"
	"github.com/awskeep/awskeep/core/sts"
)

// moto answers AssumeRoleWithSAML; it checks the attributes only (FACTS.md), the rest is
// samlassert's, tested there and here.
var moto *mototest.Server

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "samlsource-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	moto, err = mototest.StartServer(context.Background(), tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "samlsource test setup:", err)
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.RemoveAll(tmp)
	os.Exit(code)
}

const password = "correct horse battery staple"

// staticSource is a secretsource.Source with a fixed secret that counts its calls.
type staticSource struct {
	secret string
	calls  *int
}

func (s staticSource) Secret(context.Context) (string, error) { *s.calls++; return s.secret, nil }
func (s staticSource) String() string                         { return "static" }

func newProvider(idp *samltest.IdP, secret string, calls *int) *Provider {
	return &Provider{
		URL: idp.LoginURL, ProviderName: "form", Username: "alice",
		Password: staticSource{secret, calls},
		STS:      func(o *sts.Options) error { o.EndpointURL = moto.URL; return nil },
	}
}

func TestRetrieveFormLogin(t *testing.T) {
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": password}, SessionDuration: 2 * time.Hour})
	calls := 0
	p := newProvider(idp, password, &calls)
	p.Duration = 4 * time.Hour // capped by the assertion's SessionDuration
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Complete() || calls != 1 {
		t.Fatalf("credentials %v, %d password reads; want complete credentials, one read", c, calls)
	}
	if left := time.Until(c.Expiration); left > 2*time.Hour+time.Minute {
		t.Fatalf("credentials live %v: the assertion's SessionDuration (2h) was not applied", left)
	}
}

// TestRetrieveDuration: the DurationSeconds sent to STS is the one asked for, capped by the
// assertion's SessionDuration, and absent when neither sets one. (moto takes the lifetime
// from the assertion's SessionDuration itself, so only the request shows the cap.)
func TestRetrieveDuration(t *testing.T) {
	var (
		mu   sync.Mutex
		sent []string
	)
	target, _ := url.Parse(moto.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	stsRecorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") == "AssumeRoleWithSAML" {
			mu.Lock()
			sent = append(sent, form.Get("DurationSeconds"))
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(stsRecorder.Close)

	for _, tc := range []struct {
		name              string
		asked, assertion  time.Duration
		wantDurationParam string
	}{
		{name: "more than the assertion allows", asked: 4 * time.Hour, assertion: 2 * time.Hour, wantDurationParam: "7200"},
		{name: "less than the assertion allows", asked: 30 * time.Minute, assertion: 2 * time.Hour, wantDurationParam: "1800"},
		{name: "none asked: the assertion's", assertion: 90 * time.Minute, wantDurationParam: "5400"},
		{name: "no SessionDuration", asked: 45 * time.Minute, wantDurationParam: "2700"},
		{name: "neither", wantDurationParam: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": password}, SessionDuration: tc.assertion})
			calls := 0
			p := newProvider(idp, password, &calls)
			p.Duration = tc.asked
			p.STS = func(o *sts.Options) error { o.EndpointURL = stsRecorder.URL; return nil }
			if _, err := p.Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(sent) == 0 || sent[len(sent)-1] != tc.wantDurationParam {
				t.Fatalf("DurationSeconds sent: %q, want %q last", sent, tc.wantDurationParam)
			}
		})
	}
}

func TestRetrieveRefusals(t *testing.T) {
	twoRoles := []samlassert.Role{samltest.AWSRole(samltest.AccountID, "dev", "idp"), samltest.AWSRole(samltest.AccountID, "ops", "idp")}
	cases := []struct {
		name   string
		opts   samltest.Options
		secret string
		role   string
		origin string
		class  creds.Class
		prefix string // the error starts with it
		want   string
	}{
		{name: "wrong password", secret: "wrong", class: creds.ClassIdP,
			prefix: "IdP login (form): the IdP at ", want: "refused the password for alice"},
		{name: "expired assertion", secret: password, opts: samltest.Options{Validity: -time.Hour}, class: creds.ClassIdP,
			prefix: "IdP login (form): SAML response: the assertion expired at "},
		{name: "role not in the assertion", secret: password, role: "arn:aws:iam::123456789012:role/nope", class: creds.ClassConfig,
			prefix: "awskeep_saml_role_arn: role arn:aws:iam::123456789012:role/nope is not in the assertion; it offers: " + samltest.DefaultRole.RoleARN},
		{name: "role not in the assertion, from a profile", secret: password, role: "arn:aws:iam::123456789012:role/nope",
			origin: "/home/u/.aws/config:9 (awskeep_saml_role_arn)", class: creds.ClassConfig,
			prefix: "/home/u/.aws/config:9 (awskeep_saml_role_arn): role arn:aws:iam::123456789012:role/nope is not in the assertion; it offers: "},
		{name: "two roles and no terminal", secret: password, opts: samltest.Options{Roles: twoRoles}, class: creds.ClassPrompt, want: RoleSetting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Users = map[string]string{"alice": password}
			idp := samltest.Start(t, c.opts)
			calls := 0
			p := newProvider(idp, c.secret, &calls)
			p.RoleARN, p.RoleOrigin = c.role, c.origin
			p.Prompter = noTerminal{}
			_, err := p.Retrieve(context.Background())
			if err == nil {
				t.Fatal("Retrieve succeeded")
			}
			if got := creds.ClassOf(err); got != c.class {
				t.Errorf("class %v, want %v (%v)", got, c.class, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.prefix) || !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not start with %q and say %q", msg, c.prefix, c.want)
			}
			// One clean line: the word SAML at most once (the step names the IdP login,
			// the response its own part).
			if n := strings.Count(msg, "SAML"); n > 1 || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error %q says SAML %d times or is not one line", msg, n)
			}
			if strings.Contains(err.Error(), password) || calls > 1 {
				t.Errorf("error shows the password or the password was read %d times", calls)
			}
			if c.name == "wrong password" && idp.FailedLogins("alice") != 1 {
				t.Errorf("the IdP saw %d failed logins, want 1 (never retried)", idp.FailedLogins("alice"))
			}
		})
	}
}

func TestRetrieveChoosesRole(t *testing.T) {
	dev := samltest.AWSRole(samltest.AccountID, "dev", "idp")
	ops := samltest.AWSRole(samltest.AccountID, "ops", "idp")
	idp := samltest.Start(t, samltest.Options{Users: map[string]string{"alice": password}, Roles: []samlassert.Role{dev, ops}})
	calls := 0
	p := newProvider(idp, password, &calls)
	chooser := &choosing{pick: 1}
	p.Prompter = chooser
	// moto answers HTTP 500 to an assertion with several roles (FACTS.md): the choice is
	// checked up to the STS call.
	p.STS = func(o *sts.Options) error { o.EndpointURL = "http://127.0.0.1:1"; return nil }
	_, err := p.Retrieve(context.Background())
	if len(chooser.options) != 2 || chooser.options[0] != dev.RoleARN || chooser.options[1] != ops.RoleARN {
		t.Fatalf("the chooser offered %q, want the two roles", chooser.options)
	}
	if err == nil || creds.ClassOf(err) != creds.ClassSTS {
		t.Fatalf("Retrieve after the choice: %v, want the (closed) STS endpoint's error", err)
	}
}

type noTerminal struct{ prompt.Prompter }

func (noTerminal) Available() error { return prompt.ErrNoTerminal }
func (noTerminal) Choose(context.Context, string, []string) (int, error) {
	return 0, prompt.ErrNoTerminal
}

type choosing struct {
	prompt.Prompter
	pick    int
	options []string
}

func (c *choosing) Available() error { return nil }
func (c *choosing) Choose(_ context.Context, _ string, options []string) (int, error) {
	c.options = options
	return c.pick, nil
}
