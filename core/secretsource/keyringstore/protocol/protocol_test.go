package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/awskeep/awskeep/core/prompt"
)

func TestCheckName(t *testing.T) {
	for _, tt := range []struct{ name, wantErr string }{
		{"okta", ""},
		{"a.b_c-d@e+f9", ""},
		{strings.Repeat("a", 128), ""},
		{"", "empty name"},
		{".x", "name starts with a dot"},
		{"a/b", "name may hold only letters, digits and . _ - @ +"},
		{"clé", "name may hold only letters, digits and . _ - @ +"},
		{strings.Repeat("a", 129), "name longer than 128 characters"},
	} {
		err := CheckName(tt.name)
		if (tt.wantErr == "") != (err == nil) || (err != nil && err.Error() != tt.wantErr) {
			t.Errorf("CheckName(%q) = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestPasswordExchange runs both halves over pipes, as awskeep and the helper do.
func TestPasswordExchange(t *testing.T) {
	reqR, reqW := io.Pipe()
	ansR, ansW := io.Pipe()
	var (
		mu   sync.Mutex
		seen []PasswordRequest
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ServePasswords(t.Context(), reqR, ansW, func(_ context.Context, req PasswordRequest) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, req)
			if req.Dir == "/refused" {
				return "", errors.New("cannot ask: no terminal")
			}
			return "pa\"ss\nword\x00", nil
		})
	}()
	ask := AskParent(reqW, ansR)
	if got, err := ask(t.Context(), PasswordRequest{Dir: "/d", Confirm: true}); err != nil || got != "pa\"ss\nword\x00" {
		t.Fatalf("AskParent() = %q, %v", got, err)
	}
	if _, err := ask(t.Context(), PasswordRequest{Dir: "/refused"}); err == nil || err.Error() != "cannot ask: no terminal" {
		t.Fatalf("AskParent() refused = %v", err)
	}
	reqW.Close()
	<-done
	if len(seen) != 2 || seen[0] != (PasswordRequest{Dir: "/d", Confirm: true}) {
		t.Fatalf("requests %+v", seen)
	}
	ansW.Close()
	if _, err := ask(t.Context(), PasswordRequest{Dir: "/d"}); err == nil {
		t.Fatal("AskParent() after awskeep went away succeeded")
	}
}

func TestReadMessage(t *testing.T) {
	for _, tt := range []struct{ name, in, wantErr string }{
		{"malformed", "{\"password\": secret-never-shown\n", "keyring protocol: malformed message"},
		{"too long", strings.Repeat("x", maxMessage+1) + "\n", "longer than"},
		{"no line end", "{}", "awskeep did not answer the request for the keyring password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := AskParent(io.Discard, strings.NewReader(tt.in))(t.Context(), PasswordRequest{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "never-shown") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

type fakePrompter struct {
	answers []string
	asked   int
	err     error
}

func (p *fakePrompter) Secret(context.Context, string) (string, error) {
	p.asked++
	if p.err != nil {
		return "", p.err
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}
func (p *fakePrompter) Line(context.Context, string) (string, error) { return "", errors.New("no") }
func (p *fakePrompter) Choose(context.Context, string, []string) (int, error) {
	return -1, errors.New("no")
}

func TestAskFilePassword(t *testing.T) {
	for _, tt := range []struct {
		name      string
		p         *fakePrompter
		confirm   bool
		want      string
		wantAsked int
		wantErr   string
	}{
		{"once", &fakePrompter{answers: []string{"pw"}}, false, "pw", 1, ""},
		{"confirmed", &fakePrompter{answers: []string{"pw", "pw"}}, true, "pw", 2, ""},
		{"differ", &fakePrompter{answers: []string{"pw", "wp"}}, true, "", 2, "the two keyring passwords differ: nothing stored"},
		{"empty", &fakePrompter{answers: []string{""}}, true, "", 1, ErrNoPassword.Error()},
		{"no terminal", &fakePrompter{err: prompt.ErrNoTerminal}, false, "", 1,
			"cannot ask for the password of the awskeep keyring files in /d: no terminal; set $AWSKEEP_KEYRING_PASSWORD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AskFilePassword(t.Context(), tt.p, PasswordRequest{Dir: "/d", Confirm: tt.confirm})
			if got != tt.want || tt.p.asked != tt.wantAsked || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("AskFilePassword() = %q, %v after %d questions; want %q, %q after %d", got, err, tt.p.asked, tt.want, tt.wantErr, tt.wantAsked)
			}
		})
	}
}

// FuzzAskParent feeds the helper's side arbitrary answers: it must not panic, and a
// password it accepts is the one the first line holds.
func FuzzAskParent(f *testing.F) {
	for _, seed := range []string{"{\"password\":\"pw\"}\n", "{\"error\":\"no terminal\"}\n", "{}\n", "{", "null\n", "{\"password\":\"a\\u0000b\"}\nmore"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		pw, err := AskParent(io.Discard, bytes.NewReader(in))(context.Background(), PasswordRequest{Dir: "/d"})
		if err != nil {
			return
		}
		line, _, _ := bytes.Cut(in, []byte("\n"))
		var ans PasswordAnswer
		if json.Unmarshal(line, &ans) != nil || ans.Error != "" || ans.Password != pw {
			t.Fatalf("accepted %q from %q", pw, in)
		}
	})
}
