// Package secretsource fetches one secret, an identity provider's password, from where a
// profile says it lives: a Conjur variable, an OS keyring item, a 0600 file, or the user at
// the controlling terminal. The setting it reads is
//
//	awskeep_saml_password_source = conjur:VARIABLE | keyring:NAME | file:PATH | prompt
//
// Who uses it: the SAML source in core/engine parses the setting with Parse when it builds
// the provider and calls Source.Secret only when it must log in at the IdP (a cached
// session never touches Conjur, the keyring or the terminal); `awskeep saml
// store-password` puts a password into the keyring with Store.
//
// Parse checks the setting's form only. It does no I/O and reads nothing from the
// environment but $HOME (for a file:~/ path) and $AWSKEEP_KEYRING_BACKEND (for keyring:),
// so a profile whose credentials are cached needs no Conjur settings, keyring or terminal.
//
// The secret, the Conjur API key, the Conjur access token and the keyring file password
// never appear in an error, in a Source's String, GoString or LogValue, or in Options'
// printed form. An unknown setting is not repeated in its error either, in case the user
// wrote the password itself there.
//
// # Kinds
//
// conjur:VARIABLE reads a variable through Conjur's REST API with API-key authentication
// (see conjur.go). Where Conjur is and who logs in come from ConjurOptions, which core/engine
// fills from the profile's awskeep_conjur_url, awskeep_conjur_account,
// awskeep_conjur_login and awskeep_conjur_cert_file, each winning over the CONJUR_*
// variable it stands for. The API key is never a profile value:
// awskeep_conjur_api_key_source = keyring:NAME | file:PATH says where it is
// (ParseConjurAPIKeySource, which refuses conjur: and prompt), and $CONJUR_AUTHN_API_KEY
// is the fallback. keyring:NAME reads an item of github.com/99designs/keyring (backends
// secret-service, pass, keyctl, file; see keyring.go) through the awskeep-keyring helper
// (see below). file:PATH reads the first line of a
// regular file that belongs to the user and that nobody else may read or write (see
// file.go). prompt asks on the controlling terminal through core/prompt and, with no
// terminal, fails at once naming Options.Setting.
//
// # The keyring helper
//
// github.com/99designs/keyring registers its secret-service backend from a package init
// function that connects to the D-Bus session bus (and, with no bus address in the
// environment, runs dbus-launch if it is installed). Every binary that links it pays that
// at start, whether or not it ever reads a keyring; awskeep, whose cached
// credential_process answer takes a few milliseconds, must not. So this package does not
// import it: keyring:NAME and Store run the awskeep-keyring program (core/cmd/awskeep-keyring,
// on package keyringstore), found next to the running executable or on $PATH, or named by
// KeyringOptions.Helper, and refused unless only root or the user could have written it.
// The secret goes through the helper's stdin and stdout, the file backend's password
// through a pipe of its own (package keyringstore/protocol); neither is ever in its
// arguments or environment, and the helper gets only an allow-listed part of awskeep's
// environment. The helper's exit status carries the error's class back (ErrNotFound,
// ErrUnauthorized, ErrUnavailable, ...), its one stderr line the message. A test keeps the
// library out of this package's dependencies.
package secretsource
