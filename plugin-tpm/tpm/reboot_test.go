package tpm_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/awskeep/awskeep/plugin-tpm/tpm"
	"github.com/awskeep/awskeep/plugins"
)

// TestKeysSurviveReboot imports keys at a handle and in a file, reboots the TPM (orderly
// shutdown and start, as a computer does) and checks they compute the same HMACs after.
func TestKeysSurviveReboot(t *testing.T) {
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			ctx := context.Background()
			var keys []plugins.Key
			for _, kind := range keyKinds {
				k := kind.new(tg, t, "pw")
				mustImport(t, tg.backend, k, material)
				keys = append(keys, k)
			}
			want := softHMAC(material, []byte("20150830"))
			for round := range 3 {
				for _, k := range keys {
					got, err := tg.backend.HMAC(ctx, k, []byte("20150830"))
					if err != nil {
						t.Fatalf("boot %d: HMAC(%s): %v", round, k, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("boot %d: HMAC(%s) = %x, want %x", round, k, got, want)
					}
				}
				tg.reboot(t)
			}
			tg.requireNothingLoaded(t)
		})
	}
}

// TestRetryAfterStart checks that the backend retries TPM_RC_RETRY, which swtpm answers to
// the first use of a password after each start: the HMAC succeeds, and the injected sleep
// shows the retry happened.
func TestRetryAfterStart(t *testing.T) {
	tg := swtpm(t)
	var sleeps []time.Duration
	b := tpm.New(func(o *tpm.Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			return nil
		}
	})
	k := tg.handleKey(t, "pw")
	mustImport(t, b, k, material)
	tg.reboot(t)
	sleeps = nil
	if _, err := b.HMAC(context.Background(), k, []byte("x")); err != nil {
		t.Fatalf("first HMAC after start: %v", err)
	}
	if len(sleeps) == 0 {
		t.Fatal("no retry seen: swtpm answers TPM_RC_RETRY to the first password use after a start")
	}
	t.Logf("retried after %v", sleeps)
}

// TestStartupWhenNotStarted checks that the backend starts a TPM that answers
// TPM_RC_INITIALIZE (powered on, never sent TPM2_Startup) and then works normally.
func TestStartupWhenNotStarted(t *testing.T) {
	sw := swtpmtest.Start(t, func(o *swtpmtest.Options) { o.NoStartup = true })
	b := tpm.New()
	k := plugins.Key{URI: "tpm:handle=0x81010002?device=" + sw.Device, PIN: "pw"}
	mustImport(t, b, k, material)
	got, err := b.HMAC(context.Background(), k, []byte("20150830"))
	if err != nil || !bytes.Equal(got, softHMAC(material, []byte("20150830"))) {
		t.Fatalf("HMAC = %x, %v", got, err)
	}
}
