package tpm_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/awskeep/awskeep/plugin-tpm/tpmtest"
	"github.com/awskeep/awskeep/plugins"
)

// TestPCRPolicy checks a key bound to PCR 23: it works while the PCR holds its value of
// the import, stops with a clear ErrPermissionDenied once the PCR is extended, and works
// again after a reboot resets the PCR. The handle and file forms keep the policy
// differently (URI vs key file), so both are run.
func TestPCRPolicy(t *testing.T) {
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			for _, kind := range keyKinds {
				t.Run(kind.name, func(t *testing.T) {
					ctx := context.Background()
					k := withQuery(kind.new(tg, t, "pw"), "pcrs=sha256:23")
					mustImport(t, tg.backend, k, material)
					want := softHMAC(material, []byte("20150830"))
					hmacOK := func(k plugins.Key) {
						t.Helper()
						got, err := tg.backend.HMAC(ctx, k, []byte("20150830"))
						if err != nil {
							t.Fatalf("HMAC: %v", err)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("HMAC = %x, want %x", got, want)
						}
					}
					hmacOK(k)
					// Longer messages go through an HMAC sequence started under the policy.
					long := bytes.Repeat([]byte("long message "), 300)
					if got, err := tg.backend.HMAC(ctx, k, long); err != nil || !bytes.Equal(got, softHMAC(material, long)) {
						t.Fatalf("HMAC of %d bytes = %x, %v", len(long), got, err)
					}

					d, err := tg.backend.DescribeKey(ctx, k)
					if err != nil {
						t.Fatal(err)
					}
					if d.Attributes["auth"] != "pcr-policy" || d.Attributes["pcrs"] != "sha256:23" {
						t.Fatalf("DescribeKey attributes = %v, want auth pcr-policy and pcrs sha256:23", d.Attributes)
					}

					tg.direct(t, func(tpm transport.TPM) { tpmtest.ExtendPCR(t, tpm, 23, []byte("something else booted")) })
					_, err = tg.backend.HMAC(ctx, k, []byte("20150830"))
					if !errors.Is(err, plugins.ErrPermissionDenied) {
						t.Fatalf("HMAC after PCR 23 changed: %v, want ErrPermissionDenied", err)
					}
					if !strings.Contains(err.Error(), "PCR policy not satisfied: PCR 23 changed since import") {
						t.Fatalf("error %q does not explain the PCR change", err)
					}
					t.Logf("after extend: %v", err)
					tg.requireNothingLoaded(t)

					tg.reboot(t) // PCR 23 is reset to zeros, its value at import
					hmacOK(k)
				})
			}
		})
	}
}

// TestPCRPolicyNeedsPCRsInURI checks that a persistent PCR-bound key used without pcrs= in
// the URI fails with advice, before any authorization is attempted.
func TestPCRPolicyNeedsPCRsInURI(t *testing.T) {
	tg := swtpm(t)
	k := tg.handleKey(t, "pw")
	mustImport(t, tg.backend, withQuery(k, "pcrs=sha256:7,16"), material)
	_, err := tg.backend.HMAC(context.Background(), k, []byte("x"))
	if !errors.Is(err, plugins.ErrInvalidKeyURI) || !strings.Contains(err.Error(), "add pcrs=") {
		t.Fatalf("HMAC without pcrs=: %v, want ErrInvalidKeyURI advising pcrs=", err)
	}
	if _, err := tg.backend.HMAC(context.Background(), withQuery(k, "pcrs=sha256:7,16"), []byte("x")); err != nil {
		t.Fatalf("HMAC with pcrs=: %v", err)
	}
	// A different selection than the import's does not satisfy the policy.
	_, err = tg.backend.HMAC(context.Background(), withQuery(k, "pcrs=sha256:7"), []byte("x"))
	if !errors.Is(err, plugins.ErrPermissionDenied) || !strings.Contains(err.Error(), "differs from the import") {
		t.Fatalf("HMAC with another pcrs=: %v, want ErrPermissionDenied", err)
	}
}
