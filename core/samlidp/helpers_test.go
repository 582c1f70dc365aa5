package samlidp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/creds"
	"github.com/awskeep/awskeep/core/samlassert"
)

// answer is a Password or MFACode callback that counts its calls.
type answer struct {
	value string
	err   error
	calls atomic.Int32
}

func (a *answer) fn(context.Context) (string, error) {
	a.calls.Add(1)
	return a.value, a.err
}

// never is a callback a test must not see called.
func never(t *testing.T, what string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		t.Errorf("%s was called", what)
		return "", errors.New("must not be called")
	}
}

// noSecrets fails when any secret appears in err's text, in any error of its chain, or in
// its %+v and %#v renderings.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	var visit func(e error)
	visit = func(e error) {
		if e == nil {
			return
		}
		texts = append(texts, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			visit(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				visit(c)
			}
		}
	}
	visit(err)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Fatalf("error reveals secret %q: %s", s, text)
			}
		}
	}
}

// wantErr checks that err matches every target with errors.Is, has class, and that its text
// holds every part.
func wantErr(t *testing.T, err error, class creds.Class, targets []error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("error does not match %v: %v", target, err)
		}
	}
	if got := creds.ClassOf(err); got != class {
		t.Errorf("class %v, want %v: %v", got, class, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %q: %v", p, err)
		}
	}
}

// checkResponse parses a SAMLResponse and checks it is user's.
func checkResponse(t *testing.T, v, user string) {
	t.Helper()
	a, err := samlassert.Parse(v, time.Now())
	if err != nil {
		t.Fatalf("the SAMLResponse does not parse: %v", err)
	}
	if a.RoleSessionName != user {
		t.Fatalf("RoleSessionName %q, want %q", a.RoleSessionName, user)
	}
}

// closedURL is an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// serve starts a test server on 127.0.0.1 with handler h.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
