package tpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugin-tpm/mssim"
	"github.com/awskeep/awskeep/plugins"
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("tpm: "+format, args...)
}

// isRC reports whether err carries the TPM response code rc. Format-one codes match
// whatever handle, session or parameter they name (tpm2.TPMRC.Is).
func isRC(err error, rc tpm2.TPMRC) bool { return errors.Is(err, rc) }

func isAuthFailure(err error) bool {
	return isRC(err, tpm2.TPMRCAuthFail) || isRC(err, tpm2.TPMRCBadAuth)
}

// deviceError translates a failed TPM command into the contract's errors where no more
// specific translation applies: the connection broke (ErrDeviceUnavailable), the TPM is in
// lockout (ErrPINLocked) or anything else the TPM said (ErrDevice).
func (d *device) deviceError(op string, err error) error {
	var rc tpm2.TPMRC
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf("%s: %w", op, err)
	case isTransport(err):
		return errorf("%s: lost the connection to %s: %v: %w", op, d.name, err, plugins.ErrDeviceUnavailable)
	case isRC(err, tpm2.TPMRCLockout):
		return d.lockoutError(op)
	case isRC(err, tpm2.TPMRCObjectMemory), isRC(err, tpm2.TPMRCSessionMemory),
		isRC(err, tpm2.TPMRCObjectHandles), isRC(err, tpm2.TPMRCSessionHandles):
		return errorf("%s: the TPM has no free slot for a transient object or session "+
			"(another program holds them; without a resource manager, flush them with tpm2_flushcontext -t -s): %v: %w",
			op, err, plugins.ErrDevice)
	case isRC(err, tpm2.TPMRCNVSpace):
		return errorf("%s: the TPM has no room for another persistent object "+
			"(remove one with tpm2_evictcontrol, or use a key file): %v: %w", op, err, plugins.ErrDevice)
	case errors.As(err, &rc) && isRetryable(rc):
		return errorf("%s: the TPM stayed busy (%v); try again: %w", op, err, plugins.ErrDeviceUnavailable)
	default:
		return errorf("%s: %v: %w", op, err, plugins.ErrDevice)
	}
}

func isTransport(err error) bool {
	var netErr net.Error
	var errno syscall.Errno
	return errors.Is(err, mssim.ErrTransport) || errors.As(err, &netErr) || errors.As(err, &errno) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed)
}

// keyUseError translates a failure to use the key: a wrong password, lockout, or a PCR
// policy the PCRs no longer satisfy.
func (d *device) keyUseError(k *loadedKey, op string, err error) error {
	switch {
	case isAuthFailure(err):
		return errorf("%s %s: wrong password for the TPM key (each failure counts towards the TPM's "+
			"dictionary-attack lockout): %w", op, k.ref, plugins.ErrPINIncorrect)
	case k.policy != nil && (isRC(err, tpm2.TPMRCPolicyFail) || isRC(err, tpm2.TPMRCValue)):
		hint := "the key works again only if they return to their values at import"
		if k.ref.file == "" {
			hint = "or pcrs= in the key URI differs from the import's; " + hint
		}
		return errorf("%s %s: PCR policy not satisfied: %s changed since import (%s): %w",
			op, k.ref, k.policy.pcrs.Describe(), hint, plugins.ErrPermissionDenied)
	}
	return d.deviceError(op+" "+k.ref.String(), err)
}

// ownerError translates a failure of a command authorised by the owner hierarchy.
func (d *device) ownerError(op string, err error) error {
	if isAuthFailure(err) {
		return errorf("%s: the TPM's owner hierarchy has a password; awskeep needs it empty "+
			"(tpm2_changeauth -c owner) to create its storage key and persistent keys: %w", op, plugins.ErrPermissionDenied)
	}
	return d.deviceError(op, err)
}

// lockoutError explains TPM_RC_LOCKOUT, asking the TPM how long it lasts
// (TPM_PT_LOCKOUT_INTERVAL, Part 2 section 6.13); the TPM still answers GetCapability in
// lockout.
func (d *device) lockoutError(op string) error {
	how := "it lets a password be tried again after its recovery time"
	if props, err := d.properties(tpm2.TPMPTLockoutCounter, tpm2.TPMPTLockoutInterval); err == nil {
		failures, interval := props[tpm2.TPMPTLockoutCounter], props[tpm2.TPMPTLockoutInterval]
		if interval == 0 {
			how = "its recovery time is 0, so it stays locked until an administrator clears it"
		} else {
			how = fmt.Sprintf("%d failures recorded, one is forgotten every %d s; a password can be tried again in about %d s",
				failures, interval, interval)
		}
	}
	return errorf("%s: the TPM is in dictionary-attack lockout after too many wrong passwords: %s, "+
		"or an administrator clears it with tpm2_dictionarylockout --clear-lockout (lockout hierarchy password): %w",
		op, how, plugins.ErrPINLocked)
}

// properties reads TPM properties (TPM2_GetCapability, TPM_CAP_TPM_PROPERTIES).
func (d *device) properties(pts ...tpm2.TPMPT) (map[tpm2.TPMPT]uint32, error) {
	out := map[tpm2.TPMPT]uint32{}
	for _, pt := range pts {
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(pt), PropertyCount: 1}.Execute(d.tpm)
		if err != nil {
			return nil, err
		}
		props, err := rsp.CapabilityData.Data.TPMProperties()
		if err != nil {
			return nil, err
		}
		for _, p := range props.TPMProperty {
			if p.Property == pt {
				out[pt] = p.Value
			}
		}
	}
	return out, nil
}
