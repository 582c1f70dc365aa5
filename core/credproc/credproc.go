// Package credproc writes and reads the output of a credential_process helper: the JSON
// object the AWS CLI and SDKs read from its stdout ("Sourcing credentials with an external
// process", AWS SDKs and Tools Reference Guide).
package credproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/awskeep/awskeep/core/creds"
)

// Version is the only version of the format.
const Version = 1

// Output is the credential_process JSON object, the wire form of creds.Credentials. Field
// names are the format's.
type Output struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	// Expiration is RFC 3339; clients re-run the helper when fewer than 15 minutes remain.
	Expiration string `json:"Expiration,omitempty"`
}

// Marshal returns the JSON for c, newline-terminated.
func Marshal(c creds.Credentials) ([]byte, error) {
	if !c.Complete() {
		return nil, errors.New("credentials are incomplete")
	}
	out := Output{
		Version: Version, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken,
	}
	if !c.Expiration.IsZero() {
		out.Expiration = c.Expiration.UTC().Format(time.RFC3339)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Parse reads credential_process JSON strictly, as a careful client would: one object,
// no unknown fields, Version 1, both keys present, Expiration (if any) in RFC 3339. Error
// texts never contain the secret or the token.
func Parse(data []byte) (creds.Credentials, error) {
	out, err := parseOutput(data)
	if err != nil {
		return creds.Credentials{}, err
	}
	return creds.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey,
		SessionToken: out.SessionToken, Expiration: out.expiresAt()}, nil
}

func parseOutput(data []byte) (Output, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out Output
	if err := dec.Decode(&out); err != nil {
		return Output{}, fmt.Errorf("credential_process output is not the expected JSON object")
	}
	if dec.More() {
		return Output{}, errors.New("credential_process output has data after the JSON object")
	}
	switch {
	case out.Version != Version:
		return Output{}, fmt.Errorf("credential_process output has Version %d, want %d", out.Version, Version)
	case out.AccessKeyID == "":
		return Output{}, errors.New("credential_process output has no AccessKeyId")
	case out.SecretAccessKey == "":
		return Output{}, errors.New("credential_process output has no SecretAccessKey")
	}
	if out.Expiration != "" {
		if _, err := time.Parse(time.RFC3339, out.Expiration); err != nil {
			return Output{}, errors.New("credential_process output has an Expiration that is not RFC 3339")
		}
	}
	return out, nil
}

// expiresAt returns the parsed Expiration, zero if none.
func (o Output) expiresAt() time.Time {
	t, _ := time.Parse(time.RFC3339, o.Expiration)
	return t
}
