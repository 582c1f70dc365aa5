// Package keyringstore reads and writes awskeep's items in the OS keyring through
// github.com/99designs/keyring: the Secret Service (GNOME Keyring), pass(1), the Linux
// kernel keyring (keyctl) and encrypted files. Get and Set try the backends of
// Options.AllowedBackends in order and use the first available one, and explain every
// failure with a sentinel error (ErrNotFound, ErrUnauthorized, ErrUnavailable, ...) and a
// message that never holds the secret or the keyring password.
//
// Who uses it: the helper program core/cmd/awskeep-keyring, and nothing else. The keyring
// library connects to the D-Bus session bus from a package init function (and runs
// dbus-launch when no bus address is set), so a binary that links this package pays for
// that at every start. awskeep must stay fast on a cached credential_process call, so it
// never imports this package: package secretsource runs awskeep-keyring instead, speaking
// the protocol of package keyringstore/protocol, and ExitCode carries the error classes
// across.
package keyringstore
