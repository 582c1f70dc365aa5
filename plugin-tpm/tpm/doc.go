// Package tpm is awskeep's TPM 2.0 backend: it keeps "AWS4"+secret as a non-extractable
// keyed-hash (HMAC-SHA256) object in a TPM and computes HMACs with it. The plugin binary
// awskeep-plugin-tpm serves it; tests and integrators can also use it in process.
//
// Keys are named by tpm: URIs (see package keyuri):
//
//	tpm:handle=0x81010002                         a persistent object (TPM 2.0 Part 3 section 28.5, TPM2_EvictControl)
//	tpm:file=/etc/awskeep/prod.tss2.pem           a TSS2 PEM key file (loadable key) kept outside the TPM
//	...?device=tcp://127.0.0.1:2321               a simulator's command port (swtpm or the reference simulator)
//	...?pcrs=sha256:7,23                          bind the key to the current values of these PCRs
//
// The default device is the kernel resource manager /dev/tpmrm0.
//
// ListKeys (awskeep keys list) takes "tpm:" (or a handle= URI) for the TPM's persistent
// handles, "tpm:dir=/etc/awskeep" for the key files in a directory, or a file= URI for the
// files next to it; dir= is only for listing (see Backend.ListKeys).
//
// ImportKey sends the secret inside TPM2_Create (Part 3 section 12.1) as the sensitive data
// of a keyedHash object under the TCG H-2 ECC P-256 storage root key, which it re-creates
// with TPM2_CreatePrimary each time (the TPM derives the same key from its seed). The secret
// travels in a salted session with parameter encryption, so it is not in clear on the bus.
// The object has fixedTPM and fixedParent set and sensitiveDataOrigin clear: it can never
// be duplicated out of this TPM, and TPM2_Unseal refuses it because sign is set.
//
// The key's password (plugins.Key.PIN) is its authValue. The object is subject to the
// TPM's dictionary-attack protection: a wrong password costs one try towards lockout, and
// this package never retries one. With pcrs= the key's authPolicy is PolicyPCR followed by
// PolicyAuthValue (Part 3 sections 23.7 and 23.17), so it needs both the PCR values of the
// import and the password.
//
// Each call opens the device, does its work and closes it again; calls on one device are
// serialised, because simulators serve one client at a time and a TPM without a resource
// manager has only a few transient slots (3 on swtpm). Every transient object and session
// is flushed before a call returns.
package tpm
