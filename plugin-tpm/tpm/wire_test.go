package tpm_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
)

// recorder keeps every command and response that crosses the "bus".
type recorder struct {
	mu   sync.Mutex
	next transport.TPM
	wire [][]byte
}

func (r *recorder) Send(cmd []byte) ([]byte, error) {
	// Copy first: a transport may change the buffer (the reference simulator decrypts
	// parameters in place).
	sent := bytes.Clone(cmd)
	rsp, err := r.next.Send(cmd)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wire = append(r.wire, sent, bytes.Clone(rsp))
	return rsp, err
}

func (r *recorder) Close() error { return nil }

func (r *recorder) contains(b []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.wire {
		if bytes.Contains(w, b) {
			return true
		}
	}
	return false
}

// TestNothingInClearOnTheBus records all traffic between the backend and the TPM and
// checks that neither the secret, nor the key's password, nor the HMAC result (kDate)
// crosses it in clear: the import goes through a salted session with parameter
// encryption, authorization uses HMAC or policy sessions, and the result is encrypted.
func TestNothingInClearOnTheBus(t *testing.T) {
	sim := tpmtest.Simulator(t)
	rec := &recorder{next: sim}
	b := tpm.New(func(o *tpm.Options) {
		o.Open = func(context.Context, string) (transport.TPMCloser, error) { return rec, nil }
	})
	tg := &target{backend: b}
	const pin = "a rather secret password"
	keys := []plugins.Key{
		tg.handleKey(t, pin),
		tg.fileKey(t, pin),
		withQuery(tg.handleKey(t, pin), "pcrs=sha256:7"),
		withQuery(tg.fileKey(t, pin), "pcrs=sha256:7"),
	}
	for _, k := range keys {
		mustImport(t, b, k, material)
		mac, err := b.HMAC(context.Background(), k, []byte("20150830"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mac, softHMAC(material, []byte("20150830"))) {
			t.Fatalf("HMAC(%s) = %x", k, mac)
		}
		for _, secret := range []struct {
			name  string
			value []byte
		}{
			{"the AWS secret", material[4:]},
			{"the password", []byte(pin)},
			{"kDate", mac},
		} {
			if rec.contains(secret.value) {
				t.Errorf("%s: %s crossed the bus in clear", k, secret.name)
			}
		}
	}
	// The check can fail: the messages themselves do cross in clear.
	if !rec.contains([]byte("20150830")) {
		t.Fatal("the recorder did not see the HMAC message")
	}
}
