// Package protocol is what awskeep and its keyring helper, awskeep-keyring, agree on: the
// command line, the environment, the exit statuses and the exchange that asks awskeep for
// the file backend's password. Package secretsource (in awskeep) runs the helper;
// core/cmd/awskeep-keyring, built on package keyringstore, answers.
//
// The helper exists because github.com/99designs/keyring connects to the D-Bus session bus
// from a package init function (and runs dbus-launch when it finds no bus). Linked into
// awskeep, every run would pay for that, the credential_process cache hit included. This
// package imports no keyring library, so awskeep can import it; a test in secretsource
// keeps it that way.
//
// # Command line
//
//	awskeep-keyring get NAME    stdout: the secret, then "\n"
//	awskeep-keyring set NAME    stdin:  the secret, then "\n" (one line, at most MaxSecret bytes)
//
// NAME obeys CheckName. The secret never travels in arguments or the environment. On
// failure the helper writes one line, "awskeep-keyring: MESSAGE", to stderr and exits with
// one of the Exit statuses, so the class of the failure survives the process boundary.
// Other lines on stderr come from programs the helper ran (pass, gpg).
//
// # Environment
//
// The Env variables below configure the helper; each one left unset takes the default that
// package secretsource documents for the matching KeyringOptions field. awskeep sets every
// one that applies and passes on only an allow-listed part of its own environment.
//
// # Asking for the file password
//
// When EnvAskFDs is set ("3,4"), the helper does not read EnvPassword or open the
// terminal for the file backend's password: it writes a PasswordRequest as one JSON line to
// the first descriptor and reads a PasswordAnswer, one JSON line, from the second. awskeep
// answers from KeyringOptions.FilePassword, $AWSKEEP_KEYRING_PASSWORD or its Prompter, so
// the password never enters the helper's environment. Without EnvAskFDs (the helper run by
// hand), the helper reads EnvPassword, then asks on /dev/tty.
package protocol

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Program is the helper's file name. awskeep looks for it next to its own executable, then
// on $PATH.
const Program = "awskeep-keyring"

// The helper's commands.
const (
	CmdGet = "get"
	CmdSet = "set"
)

// Version is the protocol version awskeep sets in EnvProtocol. A later version only adds
// (variables, exit statuses, JSON fields); a helper refuses a version it does not know.
const Version = "1"

// Environment variables of the helper.
const (
	// EnvProtocol is the protocol version awskeep speaks; unset when run by hand.
	EnvProtocol = "AWSKEEP_KEYRING_PROTOCOL"
	// EnvBackend lists the backends to try, comma-separated, first available wins.
	EnvBackend = "AWSKEEP_KEYRING_BACKEND"
	// EnvPassword is the file backend's password, for the helper run by hand (awskeep
	// answers through EnvAskFDs instead and never sets it).
	EnvPassword = "AWSKEEP_KEYRING_PASSWORD"
	// EnvService is awskeep's service name: the keyctl keyring's name and the prefix of
	// secret-service labels.
	EnvService = "AWSKEEP_KEYRING_SERVICE"
	// EnvFileDir is the file backend's directory, an absolute path.
	EnvFileDir = "AWSKEEP_KEYRING_FILE_DIR"
	// EnvPassDir is the pass store's directory.
	EnvPassDir = "AWSKEEP_KEYRING_PASS_DIR"
	// EnvPassCmd is the pass program.
	EnvPassCmd = "AWSKEEP_KEYRING_PASS_CMD"
	// EnvPassPrefix is the folder of the pass store awskeep's items go to.
	EnvPassPrefix = "AWSKEEP_KEYRING_PASS_PREFIX"
	// EnvKeyctlScope is the kernel keyring holding awskeep's named keyring.
	EnvKeyctlScope = "AWSKEEP_KEYRING_KEYCTL_SCOPE"
	// EnvCollection is the Secret Service collection.
	EnvCollection = "AWSKEEP_KEYRING_COLLECTION"
	// EnvAskFDs names two inherited descriptors, "W,R": the helper writes PasswordRequests
	// to W and reads PasswordAnswers from R. awskeep sets "3,4".
	EnvAskFDs = "AWSKEEP_KEYRING_ASK_FDS"
)

// The backends, named as github.com/99designs/keyring names them.
const (
	BackendSecretService = "secret-service"
	BackendKeyctl        = "keyctl"
	BackendPass          = "pass"
	BackendFile          = "file"
)

// DefaultBackends are tried, first available wins, when no list is given. keyctl is never a
// default: its items are gone after a reboot.
var DefaultBackends = []string{BackendSecretService, BackendPass, BackendFile}

// KnownBackend reports whether b names a backend this protocol knows.
func KnownBackend(b string) bool {
	switch b {
	case BackendSecretService, BackendKeyctl, BackendPass, BackendFile:
		return true
	}
	return false
}

// Exit statuses of the helper. Each failure class has its own, so that awskeep maps it back
// to the sentinel error of package secretsource (and keyringstore.ExitCode maps its errors
// to them).
const (
	ExitOK = 0
	// ExitFailure: anything without a class of its own (a backend error, an item not in
	// the form awskeep stores, a password that could not be asked for).
	ExitFailure = 1
	// ExitUsage: a command line or protocol version the helper does not accept.
	ExitUsage = 2
	// ExitNotFound: the backend has no item of that name.
	ExitNotFound = 3
	// ExitUnauthorized: the file backend's password does not open the item (or, for set,
	// the items already in its directory).
	ExitUnauthorized = 4
	// ExitUnavailable: none of the backends is available here.
	ExitUnavailable = 5
	// ExitNotConfigured: a setting is missing or malformed (no directory for the file
	// backend, an unknown backend name).
	ExitNotConfigured = 6
	// ExitEmpty: the item is empty, or set was given an empty secret.
	ExitEmpty = 7
	// ExitForeignItem: the item is not in the form awskeep stores (put into pass by hand,
	// say); awskeep suggests storing it again.
	ExitForeignItem = 8
)

// MaxSecret bounds a secret in bytes, as every other secret source does: it is a password.
const MaxSecret = 64 << 10

// MessagePrefix starts the helper's error line on stderr.
const MessagePrefix = Program + ": "

const maxName = 128

// nameError is a CheckName refusal; its text completes "keyring:NAME: ...".
type nameError string

func (e nameError) Error() string { return string(e) }

// CheckName accepts an item name: 1 to 128 of [A-Za-z0-9._@+-], not starting with a dot.
// The pass backend joins the name into a path and the file backend into a file name; this
// keeps both inside their directory.
func CheckName(name string) error {
	if name == "" {
		return nameError("empty name")
	}
	if len(name) > maxName {
		return nameError("name longer than 128 characters")
	}
	if name[0] == '.' {
		return nameError("name starts with a dot")
	}
	for _, r := range name {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("._@+-", r))
		if !ok {
			return nameError("name may hold only letters, digits and . _ - @ +")
		}
	}
	return nil
}

// ErrNoPassword: nothing was typed for the keyring password.
var ErrNoPassword = errors.New("no keyring password entered")
