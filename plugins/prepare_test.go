package plugins

import (
	"testing"
	"time"
)

// preparing is a backend that records its Prepare calls.
type preparing struct {
	Backend
	got chan string
}

func (p preparing) Prepare(uri string) { p.got <- uri }

// TestPrepare: Serve hands the host's key hint to a Preparer, in a goroutine of its own,
// and removes it from the environment whether or not the backend prepares.
func TestPrepare(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	unsetenv := func(k string) error { delete(env, k); return nil }
	const hint = "pkcs11:token=aws;object=prod?module-path=/usr/lib/softhsm/libsofthsm2.so"

	p := preparing{got: make(chan string, 1)}
	env[KeyHintEnvVar] = hint
	prepare(p, getenv, unsetenv)
	select {
	case got := <-p.got:
		if got != hint {
			t.Fatalf("Prepare(%q), want the hint %q", got, hint)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Prepare was not called")
	}
	if _, ok := env[KeyHintEnvVar]; ok {
		t.Fatal("the hint stayed in the environment")
	}

	prepare(p, getenv, unsetenv) // no hint: nothing to prepare
	select {
	case got := <-p.got:
		t.Fatalf("Prepare(%q) without a hint", got)
	case <-time.After(50 * time.Millisecond):
	}

	env[KeyHintEnvVar] = hint
	prepare(struct{ Backend }{}, getenv, unsetenv) // a backend without Prepare
	if _, ok := env[KeyHintEnvVar]; ok {
		t.Fatal("the hint stayed in the environment of a backend without Prepare")
	}
}
