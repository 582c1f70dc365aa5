package tpm

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	keyfile "github.com/foxboron/go-tpm-keyfiles"
	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugin-tpm/pcrs"
	"github.com/awskeep/awskeep/plugins"
)

// keyPolicy is the authorisation policy of a PCR-bound key: TPM2_PolicyPCR over pcrs
// (TPM 2.0 Part 3 section 23.7), then TPM2_PolicyAuthValue (section 23.17) so that the
// password is still needed and still protected against dictionary attacks.
type keyPolicy struct {
	pcrs pcrs.Selection
	// pcrDigest is the digest of the PCR values at import when known (key files keep it):
	// PolicyPCR then fails at once with TPM_RC_VALUE when they changed. Empty: the TPM
	// uses the current values and the key's use fails with TPM_RC_POLICY_FAIL instead.
	pcrDigest []byte
	authValue bool
}

// pcrDigest reads the selected PCRs (TPM2_PCR_Read, Part 3 section 22.4) and returns the
// SHA-256 digest of their concatenated values, in the order of the selection: the
// pcrDigest of TPM2_PolicyPCR.
func (d *device) pcrDigest(sel pcrs.Selection) ([]byte, error) {
	h := sha256.New()
	for _, bank := range sel {
		for _, n := range bank.PCRs {
			one := pcrs.Selection{{Hash: bank.Hash, PCRs: []int{n}}}
			rsp, err := tpm2.PCRRead{PCRSelectionIn: one.TPML()}.Execute(d.tpm)
			if err != nil {
				return nil, d.deviceError(fmt.Sprintf("read %s", one), err)
			}
			if len(rsp.PCRValues.Digests) != 1 {
				return nil, errorf("read %s: the TPM has no such PCR bank active: %w", one, plugins.ErrUnsupported)
			}
			h.Write(rsp.PCRValues.Digests[0].Buffer)
		}
	}
	return h.Sum(nil), nil
}

// digest computes the policy digest for the object's authPolicy.
func (p *keyPolicy) digest() ([]byte, error) {
	calc, err := tpm2.NewPolicyCalculator(tpm2.TPMAlgSHA256)
	if err != nil {
		return nil, err
	}
	if err := (tpm2.PolicyPCR{PcrDigest: tpm2.TPM2BDigest{Buffer: p.pcrDigest}, Pcrs: p.pcrs.TPML()}).Update(calc); err != nil {
		return nil, err
	}
	if p.authValue {
		if err := (tpm2.PolicyAuthValue{}).Update(calc); err != nil {
			return nil, err
		}
	}
	return calc.Hash().Digest, nil
}

// fileEntries returns the policy as TSS2 key file policy entries (draft-bottomley-tpm2-keys
// section 4.1): each the command code and the command's parameters after its handles.
func (p *keyPolicy) fileEntries() []*keyfile.TPMPolicy {
	var pcrPolicy []byte
	pcrPolicy = append(pcrPolicy, tpm2.Marshal(tpm2.TPM2BDigest{Buffer: p.pcrDigest})...)
	pcrPolicy = append(pcrPolicy, tpm2.Marshal(p.pcrs.TPML())...)
	entries := []*keyfile.TPMPolicy{{CommandCode: int(tpm2.TPMCCPolicyPCR), CommandPolicy: pcrPolicy}}
	if p.authValue {
		entries = append(entries, &keyfile.TPMPolicy{CommandCode: int(tpm2.TPMCCPolicyAuthValue)})
	}
	return entries
}

// filePolicy reads a key file's policy; it knows the shape awskeep writes (PolicyPCR, then
// optionally PolicyAuthValue) and refuses others rather than guess.
func filePolicy(ref *keyRef, tk *keyfile.TPMKey) (*keyPolicy, error) {
	if len(tk.AuthPolicy) != 0 {
		return nil, errorf("%s: signed (authPolicy) key file policies are not supported: %w", ref, plugins.ErrUnsupported)
	}
	if len(tk.Policy) == 0 {
		return nil, nil
	}
	unsupported := func(why string) error {
		return errorf("%s: key file policy not supported (%s; awskeep understands PolicyPCR then PolicyAuthValue): %w",
			ref, why, plugins.ErrUnsupported)
	}
	first := tk.Policy[0]
	if tpm2.TPMCC(first.CommandCode) != tpm2.TPMCCPolicyPCR {
		return nil, unsupported(fmt.Sprintf("first command 0x%x", first.CommandCode))
	}
	buf := bytes.NewBuffer(first.CommandPolicy)
	digest, err := tpm2.Unmarshal[tpm2.TPM2BDigest](buf.Bytes())
	if err != nil {
		return nil, unsupported("malformed PolicyPCR")
	}
	buf.Next(2 + len(digest.Buffer))
	tpml, err := tpm2.Unmarshal[tpm2.TPMLPCRSelection](buf.Bytes())
	if err != nil || !bytes.Equal(tpm2.Marshal(*tpml), buf.Bytes()) {
		return nil, unsupported("malformed PolicyPCR")
	}
	sel, err := pcrs.FromTPML(*tpml)
	if err != nil {
		return nil, unsupported(err.Error())
	}
	p := &keyPolicy{pcrs: sel, pcrDigest: digest.Buffer}
	switch rest := tk.Policy[1:]; {
	case len(rest) == 0:
	case len(rest) == 1 && tpm2.TPMCC(rest[0].CommandCode) == tpm2.TPMCCPolicyAuthValue && len(rest[0].CommandPolicy) == 0:
		p.authValue = true
	default:
		return nil, unsupported(fmt.Sprintf("%d commands", len(tk.Policy)))
	}
	return p, nil
}

// session starts a policy session (Part 3 section 11.1) and satisfies p in it. The caller
// flushes it with the returned function, whatever happens next.
func (d *device) policySession(k *loadedKey, pin []byte, opts ...tpm2.AuthOption) (tpm2.Session, func(), error) {
	opts = append([]tpm2.AuthOption{tpm2.Auth(pin)}, opts...)
	sess, closeSess, err := tpm2.PolicySession(d.tpm, tpm2.TPMAlgSHA256, 16, opts...)
	if err != nil {
		return nil, nil, d.deviceError("start a policy session", err)
	}
	done := func() { _ = closeSess() }
	p := k.policy
	if _, err := (tpm2.PolicyPCR{
		PolicySession: sess.Handle(),
		PcrDigest:     tpm2.TPM2BDigest{Buffer: p.pcrDigest},
		Pcrs:          p.pcrs.TPML(),
	}).Execute(d.tpm); err != nil {
		done()
		return nil, nil, d.keyUseError(k, "use", err)
	}
	if p.authValue {
		if _, err := (tpm2.PolicyAuthValue{PolicySession: sess.Handle()}).Execute(d.tpm); err != nil {
			done()
			return nil, nil, d.keyUseError(k, "use", err)
		}
	}
	return sess, done, nil
}
