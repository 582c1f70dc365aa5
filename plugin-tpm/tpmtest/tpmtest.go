// Package tpmtest holds helpers for tests that talk to a TPM directly, beside the awskeep
// backend: read the dictionary-attack state, change its parameters, clear a lockout, extend
// a PCR, and (with cgo) run the go-tpm-tools in-process simulator.
//
// They work on any go-tpm transport: the simulator (Simulator), swtpm (swtpmtest.SWTPM.Open)
// or a real TPM. The lockout hierarchy's password is assumed empty, as on a fresh TPM.
package tpmtest

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Property reads one TPM property (TPM2_GetCapability, TPM_CAP_TPM_PROPERTIES; TPM 2.0
// Part 2 section 6.13), e.g. tpm2.TPMPTLockoutCounter.
func Property(t testing.TB, tpm transport.TPM, pt tpm2.TPMPT) uint32 {
	t.Helper()
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(pt), PropertyCount: 1}.Execute(tpm)
	if err != nil {
		t.Fatalf("tpmtest: GetCapability(0x%x): %v", uint32(pt), err)
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		t.Fatalf("tpmtest: GetCapability(0x%x): %v", uint32(pt), err)
	}
	for _, p := range props.TPMProperty {
		if p.Property == pt {
			return p.Value
		}
	}
	t.Fatalf("tpmtest: the TPM did not report property 0x%x", uint32(pt))
	return 0
}

// LockoutCounter returns TPM_PT_LOCKOUT_COUNTER: the authorization failures the TPM
// currently counts towards dictionary-attack lockout.
func LockoutCounter(t testing.TB, tpm transport.TPM) uint32 {
	t.Helper()
	return Property(t, tpm, tpm2.TPMPTLockoutCounter)
}

// SetDictionaryAttackParameters runs TPM2_DictionaryAttackParameters (Part 3 section
// 25.3) with the lockout hierarchy's empty password: maxTries failures lock the TPM out,
// one failure is forgotten every recoveryTime seconds, and a failed lockout authorization
// blocks lockout for lockoutRecovery seconds.
func SetDictionaryAttackParameters(t testing.TB, tpm transport.TPM, maxTries, recoveryTime, lockoutRecovery uint32) {
	t.Helper()
	params := binary.BigEndian.AppendUint32(nil, maxTries)
	params = binary.BigEndian.AppendUint32(params, recoveryTime)
	params = binary.BigEndian.AppendUint32(params, lockoutRecovery)
	lockoutCommand(t, tpm, tpm2.TPMCCDictionaryAttackParameters, params)
}

// ClearLockout runs TPM2_DictionaryAttackLockReset (Part 3 section 25.2) with the lockout
// hierarchy's empty password: the failure counter goes to zero.
func ClearLockout(t testing.TB, tpm transport.TPM) {
	t.Helper()
	lockoutCommand(t, tpm, tpm2.TPMCCDictionaryAttackLockReset, nil)
}

// lockoutCommand sends a command authorised by TPM_RH_LOCKOUT with an empty password
// session. go-tpm's tpm2 package has no types for these two commands.
func lockoutCommand(t testing.TB, tpm transport.TPM, cc tpm2.TPMCC, params []byte) {
	t.Helper()
	var cmd []byte
	cmd = binary.BigEndian.AppendUint16(cmd, uint16(tpm2.TPMSTSessions))
	cmd = binary.BigEndian.AppendUint32(cmd, 0) // size, set below
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(cc))
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(tpm2.TPMRHLockout))
	// Authorization area: TPM_RS_PW, empty nonce, continueSession, empty password.
	cmd = binary.BigEndian.AppendUint32(cmd, 9)
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(tpm2.TPMRSPW))
	cmd = append(cmd, 0, 0, 1, 0, 0)
	cmd = append(cmd, params...)
	binary.BigEndian.PutUint32(cmd[2:], uint32(len(cmd)))
	rsp, err := tpm.Send(cmd)
	if err != nil {
		t.Fatalf("tpmtest: command 0x%x: %v", uint32(cc), err)
	}
	if len(rsp) < 10 {
		t.Fatalf("tpmtest: command 0x%x: short response %x", uint32(cc), rsp)
	}
	if rc := tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10])); rc != tpm2.TPMRCSuccess {
		t.Fatalf("tpmtest: command 0x%x: %v", uint32(cc), rc)
	}
}

// ExtendPCR extends the SHA-256 bank of PCR index with SHA-256(data) (TPM2_PCR_Extend,
// Part 3 section 22.2), as a boot component measuring itself would.
func ExtendPCR(t testing.TB, tpm transport.TPM, index int, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(index), Auth: tpm2.PasswordAuth(nil)},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{
			{HashAlg: tpm2.TPMAlgSHA256, Digest: sum[:]},
		}},
	}.Execute(tpm)
	if err != nil {
		t.Fatalf("tpmtest: extend PCR %d: %v", index, err)
	}
}

// Retry wraps tpm so that commands answered with TPM_RC_RETRY, TPM_RC_YIELDED or
// TPM_RC_TESTING are sent again, as swtpm needs after each start. Direct test commands
// use it; the backend has its own.
func Retry(tpm transport.TPM) transport.TPM { return retrier{tpm} }

type retrier struct{ next transport.TPM }

func (r retrier) Send(cmd []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		rsp, err := r.next.Send(cmd)
		if err != nil || len(rsp) < 10 || attempt == 20 {
			return rsp, err
		}
		switch tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10])) {
		case tpm2.TPMRCRetry, tpm2.TPMRCYielded, tpm2.TPMRCTesting:
			continue
		}
		return rsp, nil
	}
}

// Handles lists the handles the TPM has loaded in the range of handle type ht
// (TPM2_GetCapability, TPM_CAP_HANDLES), e.g. tpm2.TPMHTTransient for transient objects,
// tpm2.TPMHTHMACSession for loaded sessions and tpm2.TPMHTPolicySession for saved ones.
func Handles(t testing.TB, tpm transport.TPM, ht tpm2.TPMHT) []tpm2.TPMHandle {
	t.Helper()
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: uint32(ht) << 24, PropertyCount: 64}.Execute(tpm)
	if err != nil {
		t.Fatalf("tpmtest: GetCapability(handles 0x%02x): %v", uint8(ht), err)
	}
	handles, err := rsp.CapabilityData.Data.Handles()
	if err != nil {
		t.Fatalf("tpmtest: GetCapability(handles 0x%02x): %v", uint8(ht), err)
	}
	var out []tpm2.TPMHandle
	for _, h := range handles.Handle {
		if tpm2.TPMHT(h>>24) == ht {
			out = append(out, h)
		}
	}
	return out
}

// RequireNothingLoaded fails t if the TPM holds transient objects or sessions, loaded or
// saved: what a TPM without a resource manager (swtpm has 3 object slots) cannot afford.
func RequireNothingLoaded(t testing.TB, tpm transport.TPM) {
	t.Helper()
	for _, ht := range []tpm2.TPMHT{tpm2.TPMHTTransient, tpm2.TPMHTHMACSession, tpm2.TPMHTPolicySession} {
		if h := Handles(t, tpm, ht); len(h) != 0 {
			t.Errorf("the TPM still holds handles %#x", h)
		}
	}
}
