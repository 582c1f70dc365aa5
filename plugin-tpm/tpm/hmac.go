package tpm

import (
	"crypto/rand"

	"github.com/google/go-tpm/tpm2"

	"github.com/awskeep/awskeep/plugins"
)

// maxBuffer is the size of a TPM2B_MAX_BUFFER on PC Client TPMs (MAX_DIGEST_BUFFER, TCG
// PC Client Platform TPM Profile: 1024): the most TPM2_HMAC and TPM2_SequenceUpdate take.
const maxBuffer = 1024

// keyAuth returns the session that authorises use of k with password pin, and a function
// that frees it. A password-only key gets a one-time HMAC session (the password never
// crosses the bus; the TPM flushes the session after the command), a PCR-bound key a
// policy session. encryptOut encrypts the command's first response parameter, so the HMAC
// result is not in clear on the bus either.
func (d *device) keyAuth(k *loadedKey, pin []byte, encryptOut bool) (tpm2.Session, func(), error) {
	var opts []tpm2.AuthOption
	if encryptOut {
		opts = append(opts, tpm2.AESEncryption(128, tpm2.EncryptOut))
	}
	if k.policy != nil {
		return d.policySession(k, pin, opts...)
	}
	opts = append([]tpm2.AuthOption{tpm2.Auth(pin)}, opts...)
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, opts...), func() {}, nil
}

// hmac computes HMAC-SHA256 of message with k: TPM2_HMAC (TPM 2.0 Part 3 section 15.5)
// when the message fits one buffer, otherwise an HMAC sequence (sections 17.2, 17.4, 17.5).
func (d *device) hmac(k *loadedKey, pin, message []byte) ([]byte, error) {
	if len(message) <= maxBuffer {
		auth, done, err := d.keyAuth(k, pin, true)
		if err != nil {
			return nil, err
		}
		defer done()
		rsp, err := tpm2.Hmac{
			Handle:  tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: auth},
			Buffer:  tpm2.TPM2BMaxBuffer{Buffer: message},
			HashAlg: tpm2.TPMAlgSHA256,
		}.Execute(d.tpm)
		if err != nil {
			return nil, d.keyUseError(k, "hmac with", err)
		}
		return rsp.OutHMAC.Buffer, nil
	}

	// The sequence object gets its own random password: only this call knows it.
	seqAuth := make([]byte, 16)
	if _, err := rand.Read(seqAuth); err != nil {
		return nil, errorf("hmac: %v: %w", err, plugins.ErrDevice)
	}
	auth, done, err := d.keyAuth(k, pin, false)
	if err != nil {
		return nil, err
	}
	start, err := tpm2.HmacStart{
		Handle:  tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: auth},
		Auth:    tpm2.TPM2BAuth{Buffer: seqAuth},
		HashAlg: tpm2.TPMAlgSHA256,
	}.Execute(d.tpm)
	done()
	if err != nil {
		return nil, d.keyUseError(k, "hmac with", err)
	}
	seq := tpm2.AuthHandle{Handle: start.SequenceHandle, Auth: tpm2.PasswordAuth(seqAuth)}
	completed := false
	defer func() {
		if !completed {
			d.flush(seq.Handle)
		}
	}()
	for len(message) > maxBuffer {
		if _, err := (tpm2.SequenceUpdate{
			SequenceHandle: seq,
			Buffer:         tpm2.TPM2BMaxBuffer{Buffer: message[:maxBuffer]},
		}).Execute(d.tpm); err != nil {
			return nil, d.deviceError("hmac sequence update", err)
		}
		message = message[maxBuffer:]
	}
	rsp, err := tpm2.SequenceComplete{
		SequenceHandle: seq,
		Buffer:         tpm2.TPM2BMaxBuffer{Buffer: message},
		Hierarchy:      tpm2.TPMRHNull,
	}.Execute(d.tpm)
	if err != nil {
		return nil, d.deviceError("hmac sequence complete", err)
	}
	completed = true // TPM2_SequenceComplete flushed the sequence object
	return rsp.Result.Buffer, nil
}
