package tpm_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TestKeyCannotLeave tries the two commands that could get a key value out of a TPM, with
// the right password, on a key the backend imported: TPM2_Unseal (Part 3 section 12.7),
// which refuses keyedHash objects with sign set, and TPM2_Duplicate (section 13.1), which
// refuses objects with fixedParent set. As a control, the same Unseal on a sealed-data
// object does return its data, so the test would notice a key that could be unsealed.
func TestKeyCannotLeave(t *testing.T) {
	for _, tgt := range targets {
		t.Run(tgt.name, func(t *testing.T) {
			tg := tgt.new(t)
			const pw = "pw"
			k := tg.handleKey(t, pw)
			mustImport(t, tg.backend, k, material)
			d, err := tg.backend.DescribeKey(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			h, err := strconv.ParseUint(d.Attributes["handle"], 0, 32)
			if err != nil {
				t.Fatalf("DescribeKey handle attribute %q: %v", d.Attributes["handle"], err)
			}
			handle := tpm2.TPMHandle(h)

			tg.direct(t, func(tpm transport.TPM) {
				pub, err := tpm2.ReadPublic{ObjectHandle: handle}.Execute(tpm)
				if err != nil {
					t.Fatal(err)
				}
				key := tpm2.AuthHandle{Handle: handle, Name: pub.Name, Auth: tpm2.PasswordAuth([]byte(pw))}
				contents, err := pub.OutPublic.Contents()
				if err != nil {
					t.Fatal(err)
				}
				if a := contents.ObjectAttributes; !a.FixedTPM || !a.FixedParent || a.SensitiveDataOrigin || a.Decrypt || !a.SignEncrypt || a.NoDA {
					t.Fatalf("object attributes %+v: want fixedTPM, fixedParent, sign; not sensitiveDataOrigin, decrypt, noDA", a)
				}

				_, err = tpm2.Unseal{ItemHandle: key}.Execute(tpm)
				if !isRC(err, tpm2.TPMRCAttributes) {
					t.Fatalf("TPM2_Unseal of the key: %v, want TPM_RC_ATTRIBUTES", err)
				}

				// Duplication needs the ADMIN role, i.e. a policy session satisfying the
				// object's policy with PolicyCommandCode(TPM2_Duplicate); fixedParent
				// forbids it whatever the policy.
				sess, closeSess, err := tpm2.PolicySession(tpm, tpm2.TPMAlgSHA256, 16)
				if err != nil {
					t.Fatal(err)
				}
				defer closeSess()
				if _, err := (tpm2.PolicyCommandCode{PolicySession: sess.Handle(), Code: tpm2.TPMCCDuplicate}).Execute(tpm); err != nil {
					t.Fatal(err)
				}
				_, err = tpm2.Duplicate{
					ObjectHandle:    tpm2.AuthHandle{Handle: handle, Name: pub.Name, Auth: sess},
					NewParentHandle: tpm2.TPMRHNull,
					Symmetric:       tpm2.TPMTSymDef{Algorithm: tpm2.TPMAlgNull},
				}.Execute(tpm)
				if !isRC(err, tpm2.TPMRCPolicyFail) && !isRC(err, tpm2.TPMRCAttributes) {
					t.Fatalf("TPM2_Duplicate of the key: %v, want TPM_RC_POLICY_FAIL or TPM_RC_ATTRIBUTES", err)
				}
				t.Logf("TPM2_Duplicate: %v", err)

				unsealControl(t, tpm)
			})
			tg.requireNothingLoaded(t)
		})
	}
}

// unsealControl seals data in a keyedHash object without sign or decrypt and unseals it:
// the TPM does let data out of such an object.
func unsealControl(t *testing.T, tpm transport.TPM) {
	t.Helper()
	srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	defer tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tpm)
	sealed, err := tpm2.Create{
		ParentHandle: tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: []byte("sealed")}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type: tpm2.TPMAlgKeyedHash, NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, UserWithAuth: true, NoDA: true},
		}),
	}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tpm2.Load{
		ParentHandle: tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
		InPrivate:    sealed.OutPrivate, InPublic: sealed.OutPublic,
	}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	defer tpm2.FlushContext{FlushHandle: loaded.ObjectHandle}.Execute(tpm)
	out, err := tpm2.Unseal{ItemHandle: tpm2.NamedHandle{Handle: loaded.ObjectHandle, Name: loaded.Name}}.Execute(tpm)
	if err != nil || string(out.OutData.Buffer) != "sealed" {
		t.Fatalf("control: TPM2_Unseal of sealed data = %v, %v", out, err)
	}
}

func isRC(err error, rc tpm2.TPMRC) bool { return errors.Is(err, rc) }
