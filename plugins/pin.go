package plugins

import "fmt"

// PINEnvVar is the host's environment variable for a PIN, named in MissingPINError's text.
// The host reads it; plugins never do (DESIGN.md: the host resolves PINs).
const PINEnvVar = "AWSKEEP_PIN"

// MissingPINError is what a backend returns when the key needs a PIN, password or token and
// Key.PIN is empty (the URI says pin-value= with nothing after it). It unwraps to
// ErrPINIncorrect, because the device would refuse the empty PIN, but its text says that
// none was given, so the user looks for a missing setting and not for a typo. Nothing was
// sent to the device: it costs no try. Create it with MissingPIN.
type MissingPINError struct {
	// Backend is the backend's name, the error's prefix ("vault").
	Backend string
	// Secret names what is missing as the user knows it: "PIN", "password", "Vault token".
	Secret string
	// Key names what needs it, e.g. `token "aws"` or the key URI.
	Key string
}

// MissingPIN returns a *MissingPINError: backend names the backend, secret what is missing
// ("PIN" if empty), key what needs it.
//
//	if k.PIN == "" {
//		return plugins.MissingPIN("vault", "Vault token", ref.String())
//	}
func MissingPIN(backend, secret, key string) error {
	if secret == "" {
		secret = "PIN"
	}
	return &MissingPINError{Backend: backend, Secret: secret, Key: key}
}

func (e *MissingPINError) Error() string {
	return fmt.Sprintf("%s: %s needs a %s and none was given: set pin-source= in the key URI or $%s",
		e.Backend, e.Key, e.Secret, PINEnvVar)
}

// Unwrap returns ErrPINIncorrect.
func (e *MissingPINError) Unwrap() error { return ErrPINIncorrect }
