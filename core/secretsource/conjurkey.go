package secretsource

import (
	"errors"
	"strings"
)

// The Conjur API key is a secret, so a profile never holds it: awskeep_conjur_api_key_source
// says where it is, and only two kinds of source qualify.
//
//   - conjur: is refused because the API key is what logs in to Conjur: reading it from
//     Conjur would need the key it is looking for.
//   - prompt is refused because the key is a long random string that nobody types, and
//     asking for it on every login would break the credential_process runs that have no
//     terminal; it is set once, in a keyring item or a 0600 file.
//
// $CONJUR_AUTHN_API_KEY still works; the profile setting wins over it, as the other
// awskeep_conjur_* settings win over their variables.

// apiKeyAccepted is what ParseConjurAPIKeySource takes, for messages.
const apiKeyAccepted = "keyring:NAME or file:PATH"

// ParseConjurAPIKeySource reads awskeep_conjur_api_key_source: keyring:NAME or file:PATH,
// as Parse reads them (the same forms and checks, no I/O), and refuses conjur: and prompt
// with the reason (see above). A keyring item that is missing is reported with a hint to
// store it with awskeep-keyring rather than with awskeep saml store-password, which stores
// the IdP password. Errors are *SpecErrors wrapping ErrInvalidSpec, or what Parse returns.
func ParseConjurAPIKeySource(spec string, opts Options) (Source, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(spec), ":")
	switch strings.ToLower(kind) {
	case KindConjur:
		return nil, &SpecError{Spec: KindConjur + ":" + arg, Want: apiKeyAccepted,
			Reason: "the Conjur API key cannot come from Conjur: it is the key that logs in to Conjur"}
	case KindPrompt:
		return nil, &SpecError{Spec: KindPrompt, Want: apiKeyAccepted,
			Reason: "the Conjur API key is not typed at a prompt: put it once in a keyring item or a 0600 file"}
	case KindKeyring:
		if opts.StoreHint == "" {
			opts.StoreHint = "store it with awskeep-keyring set " + arg + " (it reads the key from its standard input)"
		}
	}
	src, err := Parse(spec, opts)
	var se *SpecError
	if errors.As(err, &se) {
		c := *se
		c.Want = apiKeyAccepted
		return nil, &c
	}
	return src, err
}
