package secretsource

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/secretsource/conjurtest"
)

// conjurOpts points Options at srv through the environment, as a user would.
func conjurOpts(srv *conjurtest.Server, change func(map[string]string)) Options {
	env := srv.Env()
	if change != nil {
		change(env)
	}
	return Options{Getenv: envMap(env)}
}

func TestConjur(t *testing.T) {
	const password = "correct horse battery staple"
	srv := conjurtest.Start(t, conjurtest.Options{
		Login: "host/awskeep/laptop",
		Variables: map[string]string{
			"prod/okta/password":  password,
			"team a/okta:pw":      "spaces and colons",
			"prod/okta/forbidden": "nope",
		},
		Forbidden: []string{"prod/okta/forbidden"},
	})
	tests := []struct {
		name     string
		variable string
		opts     Options
		want     string
		wantKind error
		wantErr  string
	}{
		{name: "read", variable: "prod/okta/password", opts: conjurOpts(srv, nil), want: password},
		{name: "id with space and colon", variable: "team a/okta:pw", opts: conjurOpts(srv, nil), want: "spaces and colons"},
		{name: "profile overrides environment", variable: "prod/okta/password",
			opts: func() Options {
				o := conjurOpts(srv, func(e map[string]string) {
					e[EnvConjurAuthnAPIKey] = "wrong"
					e[EnvConjurApplianceURL] = "https://conjur.invalid"
				})
				o.Conjur = ConjurOptions{ApplianceURL: srv.URL + "/", APIKey: srv.APIKey}
				return o
			}(),
			want: password},
		{name: "wrong API key", variable: "prod/okta/password",
			opts:     conjurOpts(srv, func(e map[string]string) { e[EnvConjurAuthnAPIKey] = "wrong-key" }),
			wantKind: ErrUnauthorized,
			wantErr:  `conjur:prod/okta/password: Conjur refused the login "host/awskeep/laptop" (account "myorg" at ` + srv.URL + `): check the login ($CONJUR_AUTHN_LOGIN) and the API key ($CONJUR_AUTHN_API_KEY): Conjur answered 401 Unauthorized`},
		{name: "wrong login", variable: "prod/okta/password",
			opts:     conjurOpts(srv, func(e map[string]string) { e[EnvConjurAuthnLogin] = "alice" }),
			wantKind: ErrUnauthorized, wantErr: `Conjur refused the login "alice"`},
		{name: "wrong account", variable: "prod/okta/password",
			opts:     conjurOpts(srv, func(e map[string]string) { e[EnvConjurAccount] = "other" }),
			wantKind: ErrUnauthorized, wantErr: `(account "other"`},
		{name: "missing variable", variable: "prod/okta/missing", opts: conjurOpts(srv, nil),
			wantKind: ErrNotFound,
			wantErr:  `conjur:prod/okta/missing: Conjur has no variable "prod/okta/missing", or it has no value yet (or login "host/awskeep/laptop" may not read it): Conjur answered 404 Not Found`},
		{name: "forbidden", variable: "prod/okta/forbidden", opts: conjurOpts(srv, nil),
			wantKind: ErrForbidden,
			wantErr:  `login "host/awskeep/laptop" may not read Conjur variable "prod/okta/forbidden": it needs the execute privilege on it: Conjur answered 403 Forbidden`},
		{name: "no URL", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { delete(e, EnvConjurApplianceURL) }),
			wantKind: ErrNotConfigured, wantErr: "conjur:x: no Conjur URL: set $CONJUR_APPLIANCE_URL"},
		{name: "no account", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { delete(e, EnvConjurAccount) }),
			wantKind: ErrNotConfigured, wantErr: "no Conjur account: set $CONJUR_ACCOUNT"},
		{name: "no login", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { delete(e, EnvConjurAuthnLogin) }),
			wantKind: ErrNotConfigured, wantErr: "no Conjur login: set $CONJUR_AUTHN_LOGIN"},
		{name: "no API key", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { delete(e, EnvConjurAuthnAPIKey) }),
			wantKind: ErrNotConfigured, wantErr: `no Conjur API key for login "host/awskeep/laptop": set $CONJUR_AUTHN_API_KEY`},
		{name: "not a URL", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { e[EnvConjurApplianceURL] = "conjur.example.com" }),
			wantKind: ErrNotConfigured, wantErr: "is not an https:// URL"},
		{name: "URL with password", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { e[EnvConjurApplianceURL] = "https://u:pw-in-url@conjur.example.com" }),
			wantKind: ErrNotConfigured, wantErr: "holds a user name or password"},
		{name: "plain http elsewhere", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { e[EnvConjurApplianceURL] = "http://conjur.example.com" }),
			wantKind: ErrInsecure, wantErr: "plain http to another host"},
		{name: "wrong path prefix", variable: "x", opts: conjurOpts(srv, func(e map[string]string) { e[EnvConjurApplianceURL] = srv.URL + "/api" }),
			wantKind: ErrNotConfigured, wantErr: srv.URL + `/api has no Conjur authn service for account "myorg": check the URL ($CONJUR_APPLIANCE_URL) and the account ($CONJUR_ACCOUNT)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParse(t, "conjur:"+tt.variable, tt.opts).Secret(t.Context())
			if tt.wantKind == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Secret() = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Secret() = %q, want an error", got)
			}
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Secret() error %q\nwant %v containing %q", err, tt.wantKind, tt.wantErr)
			}
		})
	}
}

func TestConjurExpiredToken(t *testing.T) {
	srv := conjurtest.Start(t, conjurtest.Options{Variables: map[string]string{"v": "x"}, TokenTTL: time.Nanosecond})
	_, err := mustParse(t, "conjur:v", conjurOpts(srv, nil)).Secret(t.Context())
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "did not accept the access token it had just issued") {
		t.Fatalf("Secret() with an expired token: %v", err)
	}
}

func TestConjurTLS(t *testing.T) {
	srv := conjurtest.Start(t, conjurtest.Options{TLS: true, Variables: map[string]string{"v": "over tls"}})
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CONJUR_CERT_FILE", func(t *testing.T) {
		got, err := mustParse(t, "conjur:v", conjurOpts(srv, nil)).Secret(t.Context())
		if err != nil || got != "over tls" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
	})
	t.Run("CONJUR_SSL_CERTIFICATE", func(t *testing.T) {
		opts := conjurOpts(srv, func(e map[string]string) {
			delete(e, EnvConjurCertFile)
			e[EnvConjurSSLCertificate] = string(pem)
		})
		got, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if err != nil || got != "over tls" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
	})
	t.Run("with Options.HTTPClient", func(t *testing.T) {
		opts := conjurOpts(srv, nil)
		opts.HTTPClient = &http.Client{Transport: &http.Transport{}}
		got, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if err != nil || got != "over tls" {
			t.Fatalf("Secret() = %q, %v", got, err)
		}
	})
	t.Run("custom transport cannot take the certificate", func(t *testing.T) {
		opts := conjurOpts(srv, nil)
		opts.HTTPClient = &http.Client{Transport: roundTripperFunc(http.DefaultTransport.RoundTrip)}
		_, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "cannot add the Conjur certificate") {
			t.Fatalf("Secret() = %v", err)
		}
	})
	t.Run("unknown authority", func(t *testing.T) {
		opts := conjurOpts(srv, func(e map[string]string) { delete(e, EnvConjurCertFile) })
		_, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "cannot verify the TLS certificate of Conjur at "+srv.URL+": set $CONJUR_CERT_FILE") {
			t.Fatalf("Secret() = %v", err)
		}
	})
	t.Run("certificate file missing", func(t *testing.T) {
		opts := conjurOpts(srv, func(e map[string]string) { e[EnvConjurCertFile] = filepath.Join(t.TempDir(), "none.pem") })
		_, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if !errors.Is(err, ErrNotConfigured) || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Secret() = %v", err)
		}
	})
	t.Run("certificate file without PEM", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "junk.pem")
		if err := os.WriteFile(f, []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		opts := conjurOpts(srv, func(e map[string]string) { e[EnvConjurCertFile] = f })
		_, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
		if !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "holds no PEM certificate") {
			t.Fatalf("Secret() = %v", err)
		}
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeConjur is a Conjur that answers what the test says, for answers conjurtest does
// not give (5xx, redirects, empty values, silence).
func fakeConjur(t *testing.T, authn, secret http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/authn/") {
			authn(w, r)
			return
		}
		secret(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func okToken(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"payload":"x"}`) }

func TestConjurServerAnswers(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	tests := []struct {
		name          string
		authn, secret http.HandlerFunc
		wantKind      error
		wantErr       string
	}{
		{name: "authenticate 500", authn: status(500), secret: status(200), wantKind: ErrUnavailable,
			wantErr: "failed to log in \"alice\": Conjur answered 500 Internal Server Error"},
		{name: "authenticate 403", authn: status(403), secret: status(200), wantKind: ErrForbidden,
			wantErr: "will not let \"alice\" log in with an API key from here"},
		{name: "authenticate 418", authn: status(418), secret: status(200),
			wantErr: "did not log in \"alice\": Conjur answered 418 I'm a teapot"},
		{name: "empty token", authn: status(200), secret: status(200), wantKind: ErrUnavailable,
			wantErr: "answered the login with no usable access token"},
		{name: "retrieve 503", authn: okToken, secret: status(503), wantKind: ErrUnavailable,
			wantErr: "failed to read variable \"v\": Conjur answered 503 Service Unavailable"},
		{name: "retrieve 422", authn: okToken, secret: status(422),
			wantErr: "did not return variable \"v\": Conjur answered 422 Unprocessable Entity"},
		{name: "empty value", authn: okToken, secret: status(200), wantKind: ErrEmpty,
			wantErr: "Conjur variable \"v\" is empty"},
		{name: "value too large", authn: okToken,
			secret: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, strings.Repeat("x", maxSecret+1))
			},
			wantErr: "holds more than 64 KiB: is it a password?"},
		{name: "redirect on authenticate", authn: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/authn", http.StatusPermanentRedirect)
		}, secret: status(200), wantKind: ErrInsecure,
			wantErr: "answered with a redirect to https://elsewhere.example; awskeep does not follow redirects"},
		{name: "redirect on retrieve", authn: okToken, secret: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, wantKind: ErrInsecure, wantErr: "does not follow redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeConjur(t, tt.authn, tt.secret)
			opts := Options{Conjur: ConjurOptions{ApplianceURL: srv.URL, Account: "a", Login: "alice", APIKey: "k"}, Getenv: envMap(nil)}
			_, err := mustParse(t, "conjur:v", opts).Secret(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Secret() error %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Fatalf("Secret() error %v is not %v", err, tt.wantKind)
			}
			var se *StatusError
			if strings.Contains(tt.wantErr, "Conjur answered") && !errors.As(err, &se) {
				t.Fatalf("Secret() error %v carries no *StatusError", err)
			}
		})
	}
}

func TestConjurUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	opts := Options{Conjur: ConjurOptions{ApplianceURL: "http://" + addr, Account: "a", Login: "alice", APIKey: "k"}, Getenv: envMap(nil)}
	_, err = mustParse(t, "conjur:v", opts).Secret(t.Context())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "conjur:v: cannot reach Conjur at http://"+addr+": dial tcp") {
		t.Fatalf("Secret() = %v", err)
	}
}

func TestConjurContext(t *testing.T) {
	release := make(chan struct{})
	srv := fakeConjur(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, nil)
	defer close(release)
	opts := Options{Conjur: ConjurOptions{ApplianceURL: srv.URL, Account: "a", Login: "alice", APIKey: "k"}, Getenv: envMap(nil)}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := mustParse(t, "conjur:v", opts).Secret(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "log in to Conjur at "+srv.URL) {
		t.Fatalf("Secret() = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Secret() took %v after its deadline", d)
	}
}

// TestConjurRequests checks what goes over the wire against Conjur's API reference: the
// login escaped as one path segment, the API key as the body, the token as
// Token token="<base64>".
func TestConjurRequests(t *testing.T) {
	var authnPath, key, secretPath, auth string
	srv := fakeConjur(t, func(w http.ResponseWriter, r *http.Request) {
		authnPath = r.URL.EscapedPath()
		b, _ := io.ReadAll(r.Body)
		key = string(b)
		_, _ = io.WriteString(w, `{"protected":"p","payload":"q","signature":"s"}`)
	}, func(w http.ResponseWriter, r *http.Request) {
		secretPath = r.URL.EscapedPath()
		auth = r.Header.Get("Authorization")
		_, _ = io.WriteString(w, "value")
	})
	opts := Options{Conjur: ConjurOptions{ApplianceURL: srv.URL, Account: "my org", Login: "host/app 1", APIKey: "the key"}, Getenv: envMap(nil)}
	if _, err := mustParse(t, "conjur:prod/okta pw?#", opts).Secret(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := "/authn/my%20org/host%2Fapp%201/authenticate"; authnPath != want {
		t.Errorf("authenticate path %q, want %q", authnPath, want)
	}
	if key != "the key" {
		t.Errorf("authenticate body %q", key)
	}
	if want := "/secrets/my%20org/variable/prod%2Fokta%20pw%3F%23"; secretPath != want {
		t.Errorf("secret path %q, want %q", secretPath, want)
	}
	if want := `Token token="eyJwcm90ZWN0ZWQiOiJwIiwicGF5bG9hZCI6InEiLCJzaWduYXR1cmUiOiJzIn0="`; auth != want {
		t.Errorf("Authorization %q, want %q", auth, want)
	}
}
