package tpm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
)

func (tg *target) lockoutCounter(t testing.TB) uint32 {
	t.Helper()
	var n uint32
	tg.direct(t, func(tpm transport.TPM) { n = tpmtest.LockoutCounter(t, tpm) })
	return n
}

// TestWrongPassword checks that a wrong password is ErrPINIncorrect, costs exactly one
// failure on the TPM's dictionary-attack counter (no automatic retry), never shows up in
// the error text, and that the right password works right after.
func TestWrongPassword(t *testing.T) {
	const right = "correct horse"
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			for _, kind := range keyKinds {
				for _, pcr := range []string{"", "pcrs=sha256:16"} {
					name := kind.name
					if pcr != "" {
						name += "+pcr-policy"
					}
					t.Run(name, func(t *testing.T) {
						ctx := context.Background()
						k := kind.new(tg, t, right)
						if pcr != "" {
							k = withQuery(k, pcr)
						}
						mustImport(t, tg.backend, k, material)
						before := tg.lockoutCounter(t)
						wrong := k
						wrong.PIN = "battery staple"
						_, err := tg.backend.HMAC(ctx, wrong, []byte("20150830"))
						if !errors.Is(err, plugins.ErrPINIncorrect) {
							t.Fatalf("HMAC with a wrong password: %v, want ErrPINIncorrect", err)
						}
						if msg := err.Error(); !strings.Contains(msg, "wrong password") || !strings.Contains(msg, "lockout") ||
							strings.Contains(msg, wrong.PIN) || strings.Contains(msg, right) {
							t.Fatalf("error text %q: want it to say wrong password and lockout, without any password", msg)
						}
						t.Logf("wrong password: %v", err)
						if after := tg.lockoutCounter(t); after != before+1 {
							t.Fatalf("lockout counter went from %d to %d, want exactly one failure", before, after)
						}
						mac, err := tg.backend.HMAC(ctx, k, []byte("20150830"))
						if err != nil {
							t.Fatalf("HMAC with the right password after a wrong one: %v", err)
						}
						if want := softHMAC(material, []byte("20150830")); string(mac) != string(want) {
							t.Fatalf("HMAC = %x, want %x", mac, want)
						}
						// Start the next case with a clean counter, under the TPM's maxTries.
						tg.direct(t, func(tpm transport.TPM) { tpmtest.ClearLockout(t, tpm) })
					})
				}
			}
			tg.requireNothingLoaded(t)
		})
	}
}

// TestPasswordTooLong checks that a password the TPM cannot hold is refused before it
// reaches the TPM: it would only cost a try towards lockout.
func TestPasswordTooLong(t *testing.T) {
	tg := swtpm(t)
	k := tg.handleKey(t, "pw")
	mustImport(t, tg.backend, k, material)
	before := tg.lockoutCounter(t)
	long := k
	long.PIN = strings.Repeat("x", 33)
	if _, err := tg.backend.HMAC(context.Background(), long, []byte("x")); !errors.Is(err, plugins.ErrPINIncorrect) {
		t.Fatalf("HMAC with a 33-byte password: %v, want ErrPINIncorrect", err)
	}
	if after := tg.lockoutCounter(t); after != before {
		t.Fatalf("lockout counter went from %d to %d: the password reached the TPM", before, after)
	}
	fresh := tg.handleKey(t, strings.Repeat("x", 33))
	err := tg.backend.ImportKey(context.Background(), fresh, material, plugins.ImportOptions{})
	if !errors.Is(err, plugins.ErrUnsupported) || !strings.Contains(err.Error(), "at most 32 bytes") {
		t.Fatalf("ImportKey with a 33-byte password: %v, want ErrUnsupported saying at most 32 bytes", err)
	}
}

// TestLockout checks that once the TPM is in dictionary-attack lockout, even the right
// password gets ErrPINLocked with a message that says so and how it ends, and that the
// key works again after the lockout is cleared.
func TestLockout(t *testing.T) {
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			ctx := context.Background()
			// Two tries, then locked; one failure forgiven every 600 s.
			tg.direct(t, func(tpm transport.TPM) { tpmtest.SetDictionaryAttackParameters(t, tpm, 2, 600, 600) })
			k := tg.handleKey(t, "right")
			mustImport(t, tg.backend, k, material)
			wrong := k
			wrong.PIN = "wrong"
			for i := range 2 {
				if _, err := tg.backend.HMAC(ctx, wrong, []byte("x")); !errors.Is(err, plugins.ErrPINIncorrect) {
					t.Fatalf("wrong password #%d: %v, want ErrPINIncorrect", i+1, err)
				}
			}
			for _, key := range []plugins.Key{k, wrong} {
				_, err := tg.backend.HMAC(ctx, key, []byte("x"))
				if !errors.Is(err, plugins.ErrPINLocked) {
					t.Fatalf("HMAC in lockout: %v, want ErrPINLocked", err)
				}
				t.Logf("in lockout: %v", err)
				for _, want := range []string{"dictionary-attack lockout", "600 s", "tpm2_dictionarylockout --clear-lockout"} {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("lockout error %q does not mention %q", err, want)
					}
				}
			}
			// A lockout costs no further failures: the counter stays at maxTries.
			if n := tg.lockoutCounter(t); n != 2 {
				t.Fatalf("lockout counter = %d, want 2", n)
			}
			tg.direct(t, func(tpm transport.TPM) {
				if n := tpmtest.Property(t, tpm, tpm2.TPMPTMaxAuthFail); n != 2 {
					t.Fatalf("TPM_PT_MAX_AUTH_FAIL = %d, want 2", n)
				}
				tpmtest.ClearLockout(t, tpm)
			})
			if _, err := tg.backend.HMAC(ctx, k, []byte("x")); err != nil {
				t.Fatalf("HMAC after the lockout was cleared: %v", err)
			}
			tg.requireNothingLoaded(t)
		})
	}
}
