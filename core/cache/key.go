package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key names one cache entry: everything that changes which credentials STS returns
// (DESIGN.md, "Cache"). Two invocations share an entry only if every field is equal.
type Key struct {
	// KeyURI is the device key's URI without secrets (keyuri.URI.WithoutSecrets().String()).
	// A URI that still carries pin-value is refused with ErrInvalidKey.
	KeyURI string
	// AccessKeyID is the long-term access key id whose secret the device holds.
	AccessKeyID string
	// RoleARN, RoleSessionName and ExternalID are AssumeRole's parameters; empty for
	// GetSessionToken.
	RoleARN, RoleSessionName, ExternalID string
	// Duration is the requested lifetime of the credentials; zero for STS's default.
	Duration time.Duration
	// Region and Endpoint are the STS region and endpoint URL the credentials came from.
	Region, Endpoint string
	// MFASerial is the MFA device the credentials were obtained with, if any: a session
	// opened with MFA may do more than one without, so the two never share an entry.
	MFASerial string
}

// keyIDDomain separates this hash from any other use of SHA-256 over similar fields, and
// versions the encoding: changing it orphans old entries instead of misreading them.
const keyIDDomain = "awskeep cache key v1\x00"

// fields lists the key's fields in their canonical order.
func (k Key) fields() [9]string {
	return [9]string{k.KeyURI, k.AccessKeyID, k.RoleARN, k.RoleSessionName, k.ExternalID,
		strconv.FormatInt(int64(k.Duration), 10), k.Region, k.Endpoint, k.MFASerial}
}

// id is the entry's file name stem: the hex SHA-256 of the length-prefixed fields. Length
// prefixes keep ("ab", "c") and ("a", "bc") apart; hashing keeps role names and account
// ids out of directory listings and makes every name a safe file name.
func (k Key) id() string {
	h := sha256.New()
	h.Write([]byte(keyIDDomain))
	var n [8]byte
	for _, f := range k.fields() {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// validate refuses keys that would put a secret into the entry file. The caller is meant
// to strip secrets from the URI; this is the check that it did.
func (k Key) validate() error {
	if strings.Contains(strings.ToLower(k.KeyURI), "pin-value") {
		return fmt.Errorf("cache: key URI carries pin-value; pass the URI without secrets (keyuri WithoutSecrets): %w", ErrInvalidKey)
	}
	return nil
}
